-- kkt-adapter buffer, schema version 3: one document's audit trail is read by index (the operator page's detail
-- view, GET /v1/kkt/receipt/{id}/events), not by a scan of every event.
CREATE INDEX IF NOT EXISTS events_receipt ON events (receipt_id, id) WHERE receipt_id IS NOT NULL;
