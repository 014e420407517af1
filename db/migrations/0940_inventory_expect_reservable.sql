-- Up Migration
-- A reservation decided from an unlocked read (issue 17): the hot SKU's stock rows are locked only
-- in the reservation's last round trip, with its writes and COMMIT, not from its read until then.
-- This check runs first in that round trip: it locks the SKUs' stock rows in the global order (as
-- every stock writer does) and raises STOCK_CHANGED (SQLSTATE IVCHG) when the decision taken from
-- the read may not hold any more: an allocation its warehouse can no longer cover, or a SKU whose
-- available stock would now cross below its low-stock threshold (the alert must then be decided on
-- the locked numbers). The caller rolls back and decides again from a locked read.
CREATE FUNCTION inventory.expect_reservable(
  p_reservation text,
  p_skus text[],
  p_quantities integer[],
  p_allocation_skus text[],
  p_allocation_warehouses text[],
  p_allocation_quantities integer[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_short bigint;
  v_crossing bigint;
BEGIN
  PERFORM 1 FROM inventory.stock s WHERE s.sku_id = ANY (p_skus)
    ORDER BY s.sku_id COLLATE "C", s.warehouse_id COLLATE "C"
    FOR UPDATE;
  SELECT count(*) INTO v_short
    FROM unnest(p_allocation_skus, p_allocation_warehouses, p_allocation_quantities) AS a(sku_id, warehouse_id, quantity)
    LEFT JOIN inventory.stock s ON s.sku_id = a.sku_id AND s.warehouse_id = a.warehouse_id
    WHERE s.sku_id IS NULL OR s.on_hand - s.reserved < a.quantity;
  SELECT count(*) INTO v_crossing
    FROM unnest(p_skus, p_quantities) AS d(sku_id, quantity)
    JOIN inventory.sku_settings t ON t.sku_id = d.sku_id AND t.low_stock_threshold > 0
    CROSS JOIN LATERAL (SELECT coalesce(sum(s.on_hand - s.reserved), 0) AS available FROM inventory.stock s WHERE s.sku_id = d.sku_id) b
    WHERE b.available >= t.low_stock_threshold AND b.available - d.quantity < t.low_stock_threshold;
  IF v_short > 0 OR v_crossing > 0 THEN
    RAISE EXCEPTION 'inventory: the stock of reservation % changed since it was read (% allocations short, % thresholds crossed)',
      p_reservation, v_short, v_crossing
      USING ERRCODE = 'IVCHG';
  END IF;
END
$$;

-- Down Migration
DROP FUNCTION inventory.expect_reservable(text, text[], integer[], text[], text[], integer[]);
