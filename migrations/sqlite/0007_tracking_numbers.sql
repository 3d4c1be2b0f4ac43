-- Tracking codes are no longer drawn at random: a new report takes the next number of a
-- counter (the setting `tracking_next`, taken in blocks) and its code is that number
-- encrypted with the deployment's key (the setting `tracking_key`; see
-- src/reports/tracking.rs). The unique index on random codes put every report of a batch
-- on its own index page, and SQLite writes each changed page to its log at every commit:
-- intake slowed as the table grew (BENCHMARKS.md). Numbers grow, so a batch lands on one
-- or two pages of theirs. Reports stored before keep their codes, unique among
-- themselves and found by them. The client key's index, like PostgreSQL's since 0006,
-- holds only the reports that have one.
--
-- SQLite cannot drop a UNIQUE constraint, so the table is made again, in this migration's
-- transaction. Its rows wait in a temporary table; the tables that refer to reports keep
-- their references (checked at the commit: defer_foreign_keys), and each row put back
-- answers them again. Columns as in migrations/postgres (tracking_no last, as there).
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE reports_kept AS SELECT * FROM reports;
DROP TABLE reports;
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    tracking_code TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    search_folded TEXT NOT NULL,
    occurred_at TEXT,
    lat REAL,
    lon REAL,
    place_unknown INTEGER NOT NULL DEFAULT 0,
    group_id INTEGER REFERENCES units(id),
    site_id INTEGER REFERENCES sites(id),
    address TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    merged_into INTEGER REFERENCES reports(id),
    assigned_user_id INTEGER REFERENCES users(id),
    assigned_team_id INTEGER REFERENCES teams(id),
    -- The register incident the report became (capability 5).
    incident_id INTEGER,
    anonymous INTEGER NOT NULL,
    reporter_name TEXT NOT NULL DEFAULT '',
    reporter_phone TEXT NOT NULL DEFAULT '',
    reporter_email TEXT NOT NULL DEFAULT '',
    reporter_user_id INTEGER REFERENCES users(id),
    source TEXT NOT NULL,
    service_code TEXT,
    api_key_id INTEGER REFERENCES api_keys(id),
    -- A client's idempotency key: a retried submission finds its first answer.
    client_key TEXT,
    public_answer TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The number the tracking code encrypts; NULL for reports stored before 0007.
    tracking_no INTEGER
);
INSERT INTO reports (id, ward_id, tracking_code, category, description, search_folded,
    occurred_at, lat, lon, place_unknown, group_id, site_id, address, status, priority,
    merged_into, assigned_user_id, assigned_team_id, incident_id, anonymous, reporter_name,
    reporter_phone, reporter_email, reporter_user_id, source, service_code, api_key_id,
    client_key, public_answer, created_at, updated_at)
SELECT id, ward_id, tracking_code, category, description, search_folded,
    occurred_at, lat, lon, place_unknown, group_id, site_id, address, status, priority,
    merged_into, assigned_user_id, assigned_team_id, incident_id, anonymous, reporter_name,
    reporter_phone, reporter_email, reporter_user_id, source, service_code, api_key_id,
    client_key, public_answer, created_at, updated_at
FROM reports_kept ORDER BY id;
DROP TABLE reports_kept;
CREATE INDEX reports_ward_status ON reports(ward_id, status, created_at);
CREATE INDEX reports_ward_created ON reports(ward_id, created_at);
CREATE UNIQUE INDEX reports_client_key_key ON reports (client_key) WHERE client_key IS NOT NULL;
CREATE UNIQUE INDEX reports_tracking_no_key ON reports (tracking_no);
CREATE UNIQUE INDEX reports_legacy_tracking_code_key ON reports (tracking_code)
    WHERE tracking_no IS NULL;
