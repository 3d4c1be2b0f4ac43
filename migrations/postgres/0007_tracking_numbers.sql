-- Tracking codes are no longer drawn at random: a new report takes the next number of a
-- counter (the setting `tracking_next`, taken in blocks) and its code is that number
-- encrypted with the deployment's key (the setting `tracking_key`; see
-- src/reports/tracking.rs). The unique index on random codes put every report of a batch
-- on its own index page (a page written, and after each checkpoint logged whole, per
-- report: about 8 µs and 300 bytes of log per report at 300,000 reports, measured with
-- pgbench); numbers grow, so a batch lands on one or two pages of theirs.
-- Reports stored before keep their codes, unique among themselves and found by them.
ALTER TABLE reports ADD COLUMN tracking_no BIGINT;
ALTER TABLE reports DROP CONSTRAINT reports_tracking_code_key;
CREATE UNIQUE INDEX reports_tracking_no_key ON reports (tracking_no);
CREATE UNIQUE INDEX reports_legacy_tracking_code_key ON reports (tracking_code)
    WHERE tracking_no IS NULL;
