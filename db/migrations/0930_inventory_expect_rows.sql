-- Up Migration
-- A statement's own check (issue 17): the stock writes of a reservation and of a parcel's settlement
-- travel with the operation's result and COMMIT (applyOnce's finishWith), where no code reads their
-- counts, so the statement checks them itself. Raises when the rows written are not the rows meant:
-- the transaction rolls back, claim and all, as the check in code did before.
CREATE FUNCTION inventory.expect_rows(p_what text, p_expected bigint, p_written bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_written IS DISTINCT FROM p_expected THEN
    RAISE EXCEPTION 'inventory: % changed under its lock (% of % rows written)', p_what, p_written, p_expected
      USING ERRCODE = 'P0001';
  END IF;
END
$$;

-- Down Migration
DROP FUNCTION inventory.expect_rows(text, bigint, bigint);
