-- Up Migration
-- The address an order ships to, kept in one call (issue 17), so the order's projection can write it
-- in the same round trip as its view (SELECT orders.save_view(...), logistics.save_order_address(...)):
-- the placement's address no longer takes a step of its own. Only a newer version replaces the row,
-- as before (the buyer's later changes come with higher versions). Returns the rows written (0 or 1).
CREATE FUNCTION logistics.save_order_address(
  p_order_id text, p_version integer, p_recipient text, p_mobile text,
  p_province_code text, p_city_code text, p_district_code text, p_street text, p_postcode text
) RETURNS integer LANGUAGE sql AS $$
  WITH written AS (
    INSERT INTO logistics.order_addresses (order_id, version, recipient, mobile, province_code, city_code, district_code, street, postcode)
    VALUES (p_order_id, p_version, p_recipient, p_mobile, p_province_code, p_city_code, p_district_code, p_street, p_postcode)
    ON CONFLICT (order_id) DO UPDATE SET version = EXCLUDED.version, recipient = EXCLUDED.recipient, mobile = EXCLUDED.mobile,
      province_code = EXCLUDED.province_code, city_code = EXCLUDED.city_code, district_code = EXCLUDED.district_code,
      street = EXCLUDED.street, postcode = EXCLUDED.postcode, updated_at = now()
    WHERE logistics.order_addresses.version < EXCLUDED.version
    RETURNING 1)
  SELECT count(*)::integer FROM written
$$;

-- Down Migration
DROP FUNCTION IF EXISTS logistics.save_order_address(text, integer, text, text, text, text, text, text, text);
