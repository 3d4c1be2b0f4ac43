-- Every report's history starts with its "created" step. The database writes it with the
-- report, so that intake stores a whole batch in one statement.
CREATE TRIGGER reports_created_step AFTER INSERT ON reports
BEGIN
    INSERT INTO report_events (report_id, at, user_id, kind, from_status, to_status, note, public)
    VALUES (NEW.id, NEW.created_at, NEW.reporter_user_id, 'created', NULL, NEW.status, '', 1);
END;
