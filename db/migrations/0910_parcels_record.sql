-- Up Migration
-- An order's parcels' rows in one statement (issue 17), for any number of parcels, so the order's
-- projection can write them in the same round trip as its view (SELECT orders.save_view(...),
-- logistics.record_parcels(...)): before, one statement per parcel after the view's. Only a newer
-- version replaces a row, as before. p_parcels is the order's parcels as the workflow holds them
-- (ParcelView[]), each stored whole in `view`.
CREATE FUNCTION logistics.record_parcels(p_order_id text, p_version integer, p_parcels jsonb, p_now timestamptz)
RETURNS integer LANGUAGE sql AS $$
  WITH written AS (
    INSERT INTO logistics.parcels (parcel_id, order_id, seq, warehouse_id, status, carrier, tracking_number, view, version, created_at, updated_at)
    SELECT p->>'parcelId', p_order_id, (p->>'seq')::integer, p->>'warehouseId', p->>'status', p->>'carrier', p->>'trackingNumber', p, p_version, p_now, p_now
    FROM jsonb_array_elements(p_parcels) AS p
    ORDER BY (p->>'seq')::integer
    ON CONFLICT (parcel_id) DO UPDATE SET status = EXCLUDED.status, carrier = EXCLUDED.carrier, tracking_number = EXCLUDED.tracking_number,
      view = EXCLUDED.view, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    WHERE logistics.parcels.version < EXCLUDED.version
    RETURNING 1)
  SELECT count(*)::integer FROM written
$$;

-- Down Migration
DROP FUNCTION IF EXISTS logistics.record_parcels(text, integer, jsonb, timestamptz);
