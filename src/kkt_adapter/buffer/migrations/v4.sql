-- kkt-adapter buffer, schema version 4: several KKTs behind one adapter. Each document names the device (by its
-- configured name) it was printed on, or is bound to while its print is decided: a key stays on one device for its
-- whole life. Rows written before this version have ''; at the adapter's next start those still undecided or
-- undelivered are given the primary's name (they were its documents); delivered ones keep '' (nothing routes by them
-- any more), so the start never rewrites a large buffer's history.

ALTER TABLE receipts ADD COLUMN device TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS receipts_unnamed ON receipts (state) WHERE device = '';
