-- Up Migration
-- Request merging for flash-sale admission: the attempts that arrive at one API process while its
-- previous call to PostgreSQL is running are admitted together, in order, in ONE transaction: one
-- lock of the campaign row and one durable commit for the whole batch instead of one per attempt.
-- Each entry runs the same flash_sale.admit as a single attempt, in a subtransaction of its own, so
-- entries cannot affect each other beyond taking units and limits in arrival order.
CREATE FUNCTION flash_sale.admit_many(p_entries jsonb)
RETURNS TABLE (idx integer, outcome text, remaining integer)
LANGUAGE plpgsql AS $$
DECLARE
  entry jsonb;
  position integer := 0;
  result record;
BEGIN
  FOR entry IN SELECT value FROM jsonb_array_elements(p_entries) LOOP
    BEGIN
      SELECT a.outcome, a.remaining INTO result
        FROM flash_sale.admit(entry->>'admissionId', entry->>'orderId', entry->>'campaignId', entry->>'customerId',
                              entry->>'requestId', (entry->>'quantity')::integer, (entry->>'now')::timestamptz) a;
      idx := position; outcome := result.outcome; remaining := result.remaining;
    EXCEPTION WHEN unique_violation THEN
      -- The same request admitted concurrently by another process: its admission answers this one.
      idx := position; outcome := 'EXISTING'; remaining := NULL;
    END;
    RETURN NEXT;
    position := position + 1;
  END LOOP;
END;
$$;

-- Down Migration
DROP FUNCTION flash_sale.admit_many(jsonb);
