-- kkt-adapter buffer, schema version 1 (PRAGMA user_version).
-- Receipt states: accepted -> pending -> synced; accepted -> print_failed (-> accepted on replay);
-- pending -> dlq -> pending (requeue).

CREATE TABLE IF NOT EXISTS receipts (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id       TEXT    NOT NULL UNIQUE,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    body_hash        TEXT    NOT NULL,
    pos_id           TEXT    NOT NULL,
    operation        TEXT    NOT NULL,
    total_kop        INTEGER NOT NULL,
    request_json     TEXT    NOT NULL,
    state            TEXT    NOT NULL
        CHECK (state IN ('accepted', 'pending', 'synced', 'print_failed', 'dlq')),
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL,
    printed_at       REAL,
    fd_number        INTEGER,
    fn_number        TEXT,
    fiscal_json      TEXT,
    response_json    TEXT,
    print_error      TEXT,
    hlc_wall_ms      INTEGER,
    hlc_logical      INTEGER,
    hlc_server_ms    INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL    NOT NULL DEFAULT 0,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_epoch      INTEGER NOT NULL DEFAULT 0,
    lease_until      REAL    NOT NULL DEFAULT 0,
    ofd_id           TEXT,
    ofd_server_time  TEXT,
    synced_at        REAL
);

-- Sync claims due pending receipts in HLC order.
CREATE INDEX IF NOT EXISTS receipts_sync_order
    ON receipts (state, hlc_wall_ms, hlc_logical) WHERE state = 'pending';
-- The next retry due (the worker sleeps until then).
CREATE INDEX IF NOT EXISTS receipts_next_attempt
    ON receipts (next_attempt_at) WHERE state = 'pending';
-- Oldest unsynced receipt, retention.
CREATE INDEX IF NOT EXISTS receipts_state_created ON receipts (state, created_at);
-- An FD number of one FN belongs to one receipt.
CREATE UNIQUE INDEX IF NOT EXISTS receipts_fd ON receipts (fn_number, fd_number) WHERE fd_number IS NOT NULL;

-- Counts by state, kept by triggers so that status is O(1).
CREATE TABLE IF NOT EXISTS counters (
    state TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (state, n)
VALUES ('accepted', 0), ('pending', 0), ('synced', 0), ('print_failed', 0), ('dlq', 0);

-- Every state transition is recorded (the auditor's trail); other events are written by the application.
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          REAL NOT NULL,
    kind        TEXT NOT NULL,
    receipt_id  TEXT,
    from_state  TEXT,
    to_state    TEXT,
    detail      TEXT
);

CREATE TRIGGER IF NOT EXISTS receipts_on_insert AFTER INSERT ON receipts
BEGIN
    UPDATE counters SET n = n + 1 WHERE state = NEW.state;
    INSERT INTO events (at, kind, receipt_id, from_state, to_state) VALUES (NEW.created_at, 'receipt', NEW.receipt_id, NULL, NEW.state);
END;

CREATE TRIGGER IF NOT EXISTS receipts_on_state AFTER UPDATE OF state ON receipts WHEN OLD.state <> NEW.state
BEGIN
    UPDATE counters SET n = n - 1 WHERE state = OLD.state;
    UPDATE counters SET n = n + 1 WHERE state = NEW.state;
    INSERT INTO events (at, kind, receipt_id, from_state, to_state, detail)
    VALUES (NEW.updated_at, 'receipt', NEW.receipt_id, OLD.state, NEW.state,
            CASE NEW.state WHEN 'print_failed' THEN NEW.print_error WHEN 'dlq' THEN NEW.last_error END);
END;

CREATE TRIGGER IF NOT EXISTS receipts_on_delete AFTER DELETE ON receipts
BEGIN
    UPDATE counters SET n = n - 1 WHERE state = OLD.state;
END;

-- Dead letters: why and when a receipt left the sync path.
CREATE TABLE IF NOT EXISTS dlq (
    receipt_id   TEXT PRIMARY KEY REFERENCES receipts (receipt_id),
    reason       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    moved_at     REAL NOT NULL,
    requeued_at  REAL
);

-- Small persistent values: the HLC high-water mark.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
