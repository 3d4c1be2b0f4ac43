-- Report intake stores a whole batch in one statement, but a foreign key checks its
-- reference once per row: a query, a plan started and a row lock for every report and
-- every reference, a third of what the intake connection's server process did (measured
-- with perf during the intake benchmark). The five references a new report carries (its
-- ward, residential group, site, reporter's account and API key) are checked once per
-- batch instead, with the guarantees of the keys they replace (NO ACTION):
--   * the insert (`PgStore::insert_new_reports`) calls `report_references_exist` once the
--     report order lock (key 7271001, `store::REPORT_ORDER_LOCK`) is held; it looks each
--     distinct referenced row up with a snapshot of its own, taken after the lock, and
--     refuses the batch with foreign_key_violation if one is not there;
--   * a referenced table refuses to delete, or change the id of, a row a report names
--     (`reports_keep_parent`), with the same error. It takes the same lock first, so a
--     delete and a batch of reports happen one after the other, each seeing the other's
--     outcome: a delete waits for the batch in progress and then sees its reports; a batch
--     waits for the delete in progress and then misses the row.
-- The references a report gets later (merged into, assigned to) keep their foreign keys.
-- SQLite keeps all of its foreign keys: its intake checks them in the same process, at a
-- few microseconds a batch.
ALTER TABLE reports
    DROP CONSTRAINT reports_ward_id_fkey,
    DROP CONSTRAINT reports_group_id_fkey,
    DROP CONSTRAINT reports_site_id_fkey,
    DROP CONSTRAINT reports_reporter_user_id_fkey,
    DROP CONSTRAINT reports_api_key_id_fkey;

CREATE FUNCTION report_reference_missing(what TEXT, id BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert into table "reports" names a row of table "%" that does not exist', what
        USING ERRCODE = 'foreign_key_violation', TABLE = 'reports',
              DETAIL = format('Key (id)=(%s) is not present in table "%s".', id, what);
END
$$;

-- Each argument holds one reference per report (NULL for none). Call it with the report
-- order lock held. VOLATILE: each query sees what was committed when it started. Its
-- queries keep one plan each: planned for the arrays of each call they cost more than
-- they save (measured: 100 µs a call planning, 30 µs with the plans kept).
CREATE FUNCTION report_references_exist(
    wards BIGINT[], grps BIGINT[], site_ids BIGINT[], user_ids BIGINT[], key_ids BIGINT[]
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    missing BIGINT;
BEGIN
    SELECT v INTO missing FROM (SELECT DISTINCT v FROM unnest(wards || grps) v) d
        WHERE v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM units WHERE id = v) LIMIT 1;
    IF FOUND THEN PERFORM report_reference_missing('units', missing); END IF;
    IF array_remove(site_ids, NULL) <> '{}' THEN
        SELECT v INTO missing FROM (SELECT DISTINCT v FROM unnest(site_ids) v) d
            WHERE v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sites WHERE id = v) LIMIT 1;
        IF FOUND THEN PERFORM report_reference_missing('sites', missing); END IF;
    END IF;
    IF array_remove(user_ids, NULL) <> '{}' THEN
        SELECT v INTO missing FROM (SELECT DISTINCT v FROM unnest(user_ids) v) d
            WHERE v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users WHERE id = v) LIMIT 1;
        IF FOUND THEN PERFORM report_reference_missing('users', missing); END IF;
    END IF;
    IF array_remove(key_ids, NULL) <> '{}' THEN
        SELECT v INTO missing FROM (SELECT DISTINCT v FROM unnest(key_ids) v) d
            WHERE v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM api_keys WHERE id = v) LIMIT 1;
        IF FOUND THEN PERFORM report_reference_missing('api_keys', missing); END IF;
    END IF;
    RETURN TRUE;
END
$$;

-- TG_ARGV: the columns of reports that refer to this table.
CREATE FUNCTION reports_keep_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col TEXT;
    named BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id IS NOT DISTINCT FROM NEW.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A snapshot older than the lock below could miss reports stored meanwhile.
        RAISE EXCEPTION 'delete from table "%" in a READ COMMITTED transaction', TG_TABLE_NAME
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- The report order lock: a batch of reports in progress ends first (see above).
    PERFORM pg_advisory_xact_lock(7271001);
    FOREACH col IN ARRAY TG_ARGV LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM reports WHERE %I = $1)', col)
            INTO named USING OLD.id;
        IF named THEN
            RAISE EXCEPTION 'update or delete on table "%" violates a reference from table "reports"', TG_TABLE_NAME
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
                      DETAIL = format('Key (id)=(%s) is still referenced from column %s of table "reports".', OLD.id, col);
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER units_named_by_reports BEFORE DELETE OR UPDATE OF id ON units
    FOR EACH ROW EXECUTE FUNCTION reports_keep_parent('ward_id', 'group_id');
CREATE TRIGGER sites_named_by_reports BEFORE DELETE OR UPDATE OF id ON sites
    FOR EACH ROW EXECUTE FUNCTION reports_keep_parent('site_id');
CREATE TRIGGER users_named_by_reports BEFORE DELETE OR UPDATE OF id ON users
    FOR EACH ROW EXECUTE FUNCTION reports_keep_parent('reporter_user_id');
CREATE TRIGGER api_keys_named_by_reports BEFORE DELETE OR UPDATE OF id ON api_keys
    FOR EACH ROW EXECUTE FUNCTION reports_keep_parent('api_key_id');

-- Almost no report carries a client key (only clients that retry send one); a unique
-- index over the ones that do, instead of an entry for every report.
ALTER TABLE reports DROP CONSTRAINT reports_client_key_key;
CREATE UNIQUE INDEX reports_client_key_key ON reports (client_key) WHERE client_key IS NOT NULL;
