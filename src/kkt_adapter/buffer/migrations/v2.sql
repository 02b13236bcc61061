-- kkt-adapter buffer, schema version 2: the buffer keeps every fiscal document the device signs, not only receipts.
-- doc_type is the FFD document type (tag 1000): 1 registration, 2 shift opening, 3 receipt, 5 shift closing (Z),
-- 31 correction. A refund may name the sale it returns (original_receipt_id).

ALTER TABLE receipts ADD COLUMN doc_type INTEGER NOT NULL DEFAULT 3;
ALTER TABLE receipts ADD COLUMN original_receipt_id TEXT REFERENCES receipts (receipt_id);
CREATE INDEX IF NOT EXISTS receipts_original ON receipts (original_receipt_id) WHERE original_receipt_id IS NOT NULL;

-- The highest FD number of each FN that the buffer has taken from the device's journal. Documents the device signed
-- on its own (a shift opened for the first sale of the day, a Z report) are taken in FD order after it. A file
-- upgraded from version 1 has no mark: at its first start the adapter reads the journal from the FN's first
-- document the OFD has not acknowledged, so the shift reports version 1 never delivered reach the OFD too (receipts
-- it already holds are recognised by their keys; one the OFD already has is answered as a duplicate).
CREATE TABLE IF NOT EXISTS journal_marks (
    fn_number  TEXT PRIMARY KEY,
    last_fd    INTEGER NOT NULL
);
