-- Event seqs come from a sequence when a transaction records its events, instead of from a one-row counter
-- locked until COMMIT. The counter kept seq order equal to commit order, but it made every event-writing
-- transaction wait for the previous one's commit to reach the disk.
--
-- Readers now establish a horizon instead: a transaction records events only while it holds
-- baton_event_gate in ROW EXCLUSIVE mode (taken in baton_next_event_seq, held until it ends); a reader
-- takes the gate in SHARE mode for an instant, which waits until every transaction that took a seq has
-- committed or rolled back, and reads up to the newest seq it sees then. Seqs taken later are higher.

-- Wait for transactions of an older baton that hold the counter row; the ones that come after this
-- migration fail instead of taking seqs from the counter (the table is dropped below).
LOCK TABLE baton_event_seq IN ACCESS EXCLUSIVE MODE;

-- CACHE 1 (the default, spelled out because correctness depends on it): every nextval takes the next
-- value from the shared sequence, so a value handed out later is always higher.
CREATE SEQUENCE baton_event_seqs AS BIGINT MINVALUE 1 NO CYCLE CACHE 1 OWNED BY events.seq;

SELECT setval(
    'baton_event_seqs',
    greatest((SELECT value FROM baton_event_seq WHERE id = 1), (SELECT max(seq) FROM events), 0) + 1,
    false
);

DROP TABLE baton_event_seq;

-- Never holds rows: only its lock is used.
CREATE TABLE baton_event_gate ();

-- The only way events get their seq. The gate lock comes first and stays until the transaction ends.
CREATE FUNCTION baton_next_event_seq() RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    LOCK TABLE baton_event_gate IN ROW EXCLUSIVE MODE;
    RETURN nextval('baton_event_seqs');
END
$$;
