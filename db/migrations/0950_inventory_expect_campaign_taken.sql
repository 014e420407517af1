-- Up Migration
-- A campaign pool's units taken in its reservation's last round trip (issue 17): the conditional
-- update, the reservation row, the stored result and COMMIT travel together (applyOnce's finishWith),
-- so the pool's row (a flash sale's hottest) is locked only while PostgreSQL runs that round trip.
-- Nothing reads the update's count there, so the statement checks it: too little left raises
-- CAMPAIGN_SOLD_OUT (SQLSTATE IVSLD), the transaction rolls back, claim and all, and the caller
-- answers the refusal with what is left.
CREATE FUNCTION inventory.expect_campaign_taken(p_campaign text, p_sku text, p_taken bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_taken IS DISTINCT FROM 1 THEN
    RAISE EXCEPTION 'inventory: campaign % has too little of SKU % left', p_campaign, p_sku
      USING ERRCODE = 'IVSLD';
  END IF;
END
$$;

-- Down Migration
DROP FUNCTION inventory.expect_campaign_taken(text, text, bigint);
