-- kkt-adapter buffer, schema version 5: the fiscal drive each device name was last seen with. A start compares it
-- with the KKT's answer: a name that now reaches another FN while receipts bound to it are undecided would settle
-- them from the wrong journal (and print them again), so that start is refused; with nothing undecided the new FN is
-- recorded (an FN replacement). A name not recorded here is one the buffer has never seen.
CREATE TABLE IF NOT EXISTS device_fns (
    device      TEXT PRIMARY KEY,
    fn_number   TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
