-- A report's "created" step is no longer stored: it holds nothing the report's own row
-- does not (created_at, reporter_user_id, status 'new'), and writing it doubled the rows,
-- index entries and reference checks of every intake commit. Reading a history adds it
-- (`report_events`), unless the report has a stored one from before this migration.
DROP TRIGGER reports_created_step ON reports;
DROP FUNCTION reports_created_step();

-- Report intake commits its batches without waiting for the disk (synchronous_commit off
-- on its own connection) and then makes them durable all at once with one small commit
-- that does wait: an update of this row, whose commit record follows theirs in the log.
CREATE TABLE intake_flush (
    id INT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO intake_flush (id, n) VALUES (1, 0);
