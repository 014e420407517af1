-- Up Migration
-- Flash-sale (秒杀) admission: who got a unit of a flash campaign, taken in one statement before any
-- order workflow starts. The campaign's terms are marketing's (marketing.campaigns); its physical pool
-- is inventory's (inventory.campaign_stock). This schema holds only the hot admission counters.
CREATE SCHEMA IF NOT EXISTS flash_sale;

-- One row per flash campaign, copied from marketing's definition when the sale opens. `taken` is the
-- hot counter: units held by admitted buyers (unpaid or paid); a released admission gives them back.
CREATE TABLE flash_sale.campaigns (
  campaign_id     text PRIMARY KEY CHECK (length(campaign_id) > 0),
  sku_id          text NOT NULL,
  flash_price_fen bigint NOT NULL CHECK (flash_price_fen > 0),
  cap             integer NOT NULL CHECK (cap >= 0),
  taken           integer NOT NULL DEFAULT 0 CHECK (taken >= 0),
  per_user_limit  integer NOT NULL CHECK (per_user_limit > 0),
  limit_unit      text NOT NULL CHECK (limit_unit IN ('UNITS', 'ORDERS')),
  starts_at       timestamptz NOT NULL,
  ends_at         timestamptz NOT NULL,
  opened_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (taken <= cap),
  CHECK (starts_at < ends_at)
);

-- What each buyer holds in a campaign (admitted, not released): the per-user limit is checked here.
CREATE TABLE flash_sale.buyers (
  campaign_id text NOT NULL REFERENCES flash_sale.campaigns (campaign_id),
  customer_id text NOT NULL,
  units       integer NOT NULL DEFAULT 0 CHECK (units >= 0),
  orders      integer NOT NULL DEFAULT 0 CHECK (orders >= 0),
  PRIMARY KEY (campaign_id, customer_id)
);

-- One row per admitted attempt. The admission id (and the order id derived from it) come from the
-- campaign, the buyer and the request id, so a retried request finds its admission. RELEASED: the
-- order timed out, was cancelled or rejected; its units went back to the campaign and the buyer.
CREATE TABLE flash_sale.admissions (
  admission_id        text PRIMARY KEY,
  order_id            text NOT NULL UNIQUE,
  campaign_id         text NOT NULL REFERENCES flash_sale.campaigns (campaign_id),
  customer_id         text NOT NULL,
  request_id          text NOT NULL,
  sku_id              text NOT NULL,
  quantity            integer NOT NULL CHECK (quantity > 0),
  unit_price_fen      bigint NOT NULL CHECK (unit_price_fen > 0),
  status              text NOT NULL DEFAULT 'ADMITTED' CHECK (status IN ('ADMITTED', 'RELEASED')),
  admitted_at         timestamptz NOT NULL,
  workflow_started_at timestamptz,
  released_at         timestamptz,
  release_reason      text,
  CHECK ((status = 'RELEASED') = (released_at IS NOT NULL))
);
CREATE INDEX admissions_by_buyer ON flash_sale.admissions (campaign_id, customer_id);
-- The sweeper's work list: admitted buyers whose order workflow has not been started yet.
CREATE INDEX admissions_to_start ON flash_sale.admissions (admitted_at) WHERE status = 'ADMITTED' AND workflow_started_at IS NULL;

-- Admission in one statement (one round trip, one implicit transaction): the buyer's limit first (a
-- row only this buyer contends for), the admission record, then the campaign's hot counter last, so
-- its row lock is held from the update to the commit only; a sold-out campaign puts the buyer's row
-- back and removes the record in the same transaction, so the net effect is all or nothing. Outcomes: ADMITTED, EXISTING (the same request was admitted before),
-- NOT_OPEN, OUTSIDE_WINDOW, LIMIT_REACHED, SOLD_OUT. `remaining` is the campaign's units left as seen.
CREATE FUNCTION flash_sale.admit(
  p_admission_id text, p_order_id text, p_campaign_id text, p_customer_id text, p_request_id text,
  p_quantity integer, p_now timestamptz
) RETURNS TABLE (outcome text, remaining integer, held integer)
LANGUAGE plpgsql AS $$
DECLARE
  c flash_sale.campaigns%ROWTYPE;
  left_after integer;
  buyer_held integer;
BEGIN
  IF EXISTS (SELECT 1 FROM flash_sale.admissions a WHERE a.admission_id = p_admission_id) THEN
    RETURN QUERY SELECT 'EXISTING'::text, NULL::integer, NULL::integer;
    RETURN;
  END IF;
  SELECT * INTO c FROM flash_sale.campaigns WHERE campaign_id = p_campaign_id;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'NOT_OPEN'::text, NULL::integer, NULL::integer;
    RETURN;
  END IF;
  IF p_now < c.starts_at OR p_now >= c.ends_at THEN
    RETURN QUERY SELECT 'OUTSIDE_WINDOW'::text, c.cap - c.taken, NULL::integer;
    RETURN;
  END IF;
  -- A lock-free look first: a sold-out campaign is refused without locking anything.
  IF c.taken + p_quantity > c.cap THEN
    RETURN QUERY SELECT 'SOLD_OUT'::text, c.cap - c.taken, NULL::integer;
    RETURN;
  END IF;
  IF (c.limit_unit = 'UNITS' AND p_quantity > c.per_user_limit) THEN
    RETURN QUERY SELECT 'LIMIT_REACHED'::text, c.cap - c.taken, 0;
    RETURN;
  END IF;

  INSERT INTO flash_sale.buyers AS b (campaign_id, customer_id, units, orders)
  VALUES (p_campaign_id, p_customer_id, p_quantity, 1)
  ON CONFLICT (campaign_id, customer_id) DO UPDATE
    SET units = b.units + EXCLUDED.units, orders = b.orders + 1
    WHERE (c.limit_unit = 'UNITS' AND b.units + EXCLUDED.units <= c.per_user_limit)
       OR (c.limit_unit = 'ORDERS' AND b.orders + 1 <= c.per_user_limit)
  RETURNING CASE WHEN c.limit_unit = 'UNITS' THEN b.units ELSE b.orders END INTO buyer_held;
  IF buyer_held IS NULL THEN
    RETURN QUERY SELECT 'LIMIT_REACHED'::text, c.cap - c.taken, NULL::integer;
    RETURN;
  END IF;

  -- The admission row before the hot counter, so the counter's lock is held for the update and the
  -- commit only.
  INSERT INTO flash_sale.admissions
    (admission_id, order_id, campaign_id, customer_id, request_id, sku_id, quantity, unit_price_fen, admitted_at)
  VALUES (p_admission_id, p_order_id, p_campaign_id, p_customer_id, p_request_id, c.sku_id, p_quantity, c.flash_price_fen, p_now);

  UPDATE flash_sale.campaigns SET taken = taken + p_quantity
   WHERE campaign_id = p_campaign_id AND taken + p_quantity <= cap
  RETURNING cap - taken INTO left_after;
  IF left_after IS NULL THEN
    DELETE FROM flash_sale.admissions WHERE admission_id = p_admission_id;
    UPDATE flash_sale.buyers SET units = units - p_quantity, orders = orders - 1
     WHERE campaign_id = p_campaign_id AND customer_id = p_customer_id;
    SELECT cap - taken INTO left_after FROM flash_sale.campaigns WHERE campaign_id = p_campaign_id;
    RETURN QUERY SELECT 'SOLD_OUT'::text, left_after, NULL::integer;
    RETURN;
  END IF;
  RETURN QUERY SELECT 'ADMITTED'::text, left_after, buyer_held;
END;
$$;

-- Down Migration
DROP SCHEMA flash_sale CASCADE;
