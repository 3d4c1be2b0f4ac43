-- Every report's history starts with its "created" step. The database writes it with the
-- reports, once per statement, so that intake stores a whole batch in one statement.
CREATE FUNCTION reports_created_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_events (report_id, at, user_id, kind, from_status, to_status, note, public)
    SELECT id, created_at, reporter_user_id, 'created', NULL, status, '', TRUE
    FROM fresh ORDER BY id;
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_created_step AFTER INSERT ON reports
    REFERENCING NEW TABLE AS fresh
    FOR EACH STATEMENT EXECUTE FUNCTION reports_created_step();
