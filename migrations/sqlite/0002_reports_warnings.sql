-- Community reports and warnings (capability 4).
-- Kept column-for-column identical to migrations/postgres/0002_reports_warnings.sql.

-- Keys for outside applications (Open311 clients); only a hash is kept.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

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
    CONSTRAINT reports_tracking_code_key UNIQUE (tracking_code),
    CONSTRAINT reports_client_key_key UNIQUE (client_key)
);
CREATE INDEX reports_ward_status ON reports(ward_id, status, created_at);
CREATE INDEX reports_ward_created ON reports(ward_id, created_at);

-- Every change of a report: who, when, what; `public` ones are shown to the reporter.
CREATE TABLE report_events (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    at TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT NOT NULL DEFAULT '',
    public INTEGER NOT NULL
);
CREATE INDEX report_events_report ON report_events(report_id, id);

CREATE TABLE report_photos (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX report_photos_report ON report_photos(report_id);

CREATE TABLE warnings (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    urgency TEXT NOT NULL,
    certainty TEXT NOT NULL,
    event TEXT NOT NULL,
    headline TEXT NOT NULL,
    body TEXT NOT NULL,
    instruction TEXT NOT NULL DEFAULT '',
    audience TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    lat REAL,
    lon REAL,
    radius_m INTEGER,
    public INTEGER NOT NULL,
    expires_at TEXT,
    cancelled_at TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX warnings_ward ON warnings(ward_id, created_at);

CREATE TABLE warning_groups (
    warning_id INTEGER NOT NULL REFERENCES warnings(id),
    group_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (warning_id, group_id)
);

-- Each publication (alert, update, cancel) is an event: the live stream's ids and the CAP
-- messages are events; `snapshot` is the warning as published (JSON).
CREATE TABLE warning_events (
    id INTEGER PRIMARY KEY,
    warning_id INTEGER NOT NULL REFERENCES warnings(id),
    ward_id INTEGER NOT NULL REFERENCES units(id),
    msg_type TEXT NOT NULL,
    at TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX warning_events_ward ON warning_events(ward_id, id);

-- Who asked to be told, on which channel.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    group_id INTEGER REFERENCES units(id),
    user_id INTEGER REFERENCES users(id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    p256dh TEXT NOT NULL DEFAULT '',
    auth TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CONSTRAINT subscriptions_channel_address_key UNIQUE (channel, address)
);

-- One row per event, recipient and channel: sent, delivered or failed, with retries.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES warning_events(id),
    subscription_id INTEGER REFERENCES subscriptions(id),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries(event_id);

-- A banner stays until its reader dismisses it.
CREATE TABLE warning_reads (
    warning_id INTEGER NOT NULL REFERENCES warnings(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    at TEXT NOT NULL,
    PRIMARY KEY (warning_id, user_id)
);

-- Deployment-wide secrets and settings (e.g. the key that signs captcha challenges), so
-- that every node of a deployment agrees.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
