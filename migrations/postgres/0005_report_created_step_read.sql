-- A report's "created" step is no longer stored: it holds nothing the report's own row
-- does not (created_at, reporter_user_id, status 'new'), and writing it doubled the rows,
-- index entries and reference checks of every intake commit. Reading a history adds it
-- (`report_events`), unless the report has a stored one from before this migration.
DROP TRIGGER reports_created_step ON reports;
DROP FUNCTION reports_created_step();
