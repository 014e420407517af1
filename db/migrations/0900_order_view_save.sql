-- Up Migration
-- The order projection in one round trip (issue 17): the view's upsert (only a newer version replaces
-- a row) and its new domain events in events.outbox, in one statement's transaction. Before this the
-- projection took six (BEGIN, upsert, known events, outbox lock, insert, COMMIT), eight times an order.
-- Events are written only when the view was: a row already at this version or newer was written with
-- its events, which include this view's (an order's events follow from its timeline, which only grows).
-- p_outbox_lock is the transaction-level advisory lock every outbox insert takes (modules/events/outbox.ts),
-- so outbox rows commit in seq order.
CREATE FUNCTION orders.save_view(
  p_order_id text, p_customer_id text, p_order_type text, p_status text, p_currency text,
  p_payable_fen bigint, p_refunded_fen bigint, p_view jsonb, p_version integer, p_created_at timestamptz, p_channel text,
  p_outbox_lock bigint,
  p_event_ids text[], p_event_types text[], p_event_versions integer[], p_event_order_ids text[],
  p_event_customer_ids text[], p_event_occurred_at timestamptz[], p_event_data jsonb[]
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  INSERT INTO orders.orders (order_id, customer_id, order_type, status, currency, payable_fen, refunded_fen, view, version, created_at, channel)
  VALUES (p_order_id, p_customer_id, p_order_type, p_status, p_currency, p_payable_fen, p_refunded_fen, p_view, p_version, p_created_at, p_channel)
  ON CONFLICT (order_id) DO UPDATE SET
    status = EXCLUDED.status, payable_fen = EXCLUDED.payable_fen, refunded_fen = EXCLUDED.refunded_fen,
    view = EXCLUDED.view, version = EXCLUDED.version, updated_at = now()
  WHERE orders.orders.version < EXCLUDED.version;
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written = 0 THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_event_ids) AS e(id) WHERE NOT EXISTS (SELECT 1 FROM events.outbox o WHERE o.event_id = e.id)) THEN
    PERFORM pg_advisory_xact_lock(p_outbox_lock);
    INSERT INTO events.outbox (event_id, type, version, order_id, customer_id, occurred_at, data)
    SELECT * FROM unnest(p_event_ids, p_event_types, p_event_versions, p_event_order_ids, p_event_customer_ids, p_event_occurred_at, p_event_data)
    ORDER BY 6
    ON CONFLICT (event_id) DO NOTHING;
  END IF;
  RETURN true;
END
$$;

-- Down Migration
DROP FUNCTION IF EXISTS orders.save_view(text, text, text, text, text, bigint, bigint, jsonb, integer, timestamptz, text, bigint, text[], text[], integer[], text[], text[], timestamptz[], jsonb[]);
