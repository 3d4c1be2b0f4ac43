-- Duty (capability 3): places, recurring duties, rosters, check-ins, patrol logs, calendars.
-- Kept column-for-column identical to migrations/postgres/0003_duty.sql.

-- A ward's roster rules; a ward without a row uses the defaults.
CREATE TABLE duty_rules (
    ward_id INTEGER PRIMARY KEY REFERENCES units(id),
    max_nights INTEGER NOT NULL,
    rest_hours INTEGER NOT NULL,
    late_minutes INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- Patrol routes, fixed checkpoints, traffic posts.
CREATE TABLE duty_places (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    notes TEXT NOT NULL DEFAULT '',
    -- Signs the QR codes posted at its stops; replaced to void every printed code.
    qr_key TEXT NOT NULL,
    qr_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT duty_places_ward_id_name_key UNIQUE (ward_id, name)
);

-- The ordered stops of a place (one for a checkpoint or a post).
CREATE TABLE duty_stops (
    id INTEGER PRIMARY KEY,
    place_id INTEGER NOT NULL REFERENCES duty_places(id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    CONSTRAINT duty_stops_place_id_seq_key UNIQUE (place_id, seq)
);

CREATE TABLE duty_templates (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    place_id INTEGER REFERENCES duty_places(id),
    -- Who serves: 'team' (team_id), 'partner' (force_id) or 'police'.
    force_kind TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    force_id INTEGER REFERENCES partner_forces(id),
    needed INTEGER NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    rule TEXT NOT NULL DEFAULT '',
    lunar_days TEXT NOT NULL DEFAULT '',
    lunar_months TEXT NOT NULL DEFAULT '',
    except_dates TEXT NOT NULL DEFAULT '',
    skip_tet INTEGER NOT NULL DEFAULT 0,
    extra_dates TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX duty_templates_ward ON duty_templates(ward_id);

-- When a person serves; a person without a row serves any day and takes nights.
CREATE TABLE duty_availability (
    person_id INTEGER PRIMARY KEY REFERENCES people(id),
    weekdays TEXT NOT NULL,
    nights INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE duty_leave (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX duty_leave_person ON duty_leave(person_id);

-- One occurrence of a duty; `month` (yyyy-mm, local) is the roster it belongs to.
CREATE TABLE duty_shifts (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    template_id INTEGER NOT NULL REFERENCES duty_templates(id),
    month TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    needed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT duty_shifts_template_id_starts_at_key UNIQUE (template_id, starts_at)
);
CREATE INDEX duty_shifts_ward_month ON duty_shifts(ward_id, month);
CREATE INDEX duty_shifts_starts ON duty_shifts(starts_at);

CREATE TABLE duty_assignments (
    id INTEGER PRIMARY KEY,
    shift_id INTEGER NOT NULL REFERENCES duty_shifts(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    -- 'auto' (a roster build), 'manual', 'claim', 'swap'.
    source TEXT NOT NULL,
    -- Rules knowingly broken when a person was put here by hand ('' when none).
    conflicts TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    -- The reminder before the duty: when a node took it on, and how it went.
    reminded_at TEXT,
    reminder TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    CONSTRAINT duty_assignments_shift_id_person_id_key UNIQUE (shift_id, person_id)
);
CREATE INDEX duty_assignments_person ON duty_assignments(person_id);

-- Check-in, check-out and checkpoint scans; `client_id` makes an offline retry count once.
CREATE TABLE duty_checkins (
    id INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES duty_assignments(id),
    kind TEXT NOT NULL,
    stop_id INTEGER REFERENCES duty_stops(id),
    at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    distance_m REAL,
    method TEXT NOT NULL,
    client_id TEXT,
    CONSTRAINT duty_checkins_client_id_key UNIQUE (client_id)
);
CREATE INDEX duty_checkins_assignment ON duty_checkins(assignment_id);

-- The duty diary and shift handover.
CREATE TABLE duty_logs (
    id INTEGER PRIMARY KEY,
    shift_id INTEGER NOT NULL REFERENCES duty_shifts(id),
    person_id INTEGER REFERENCES people(id),
    user_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    handover INTEGER NOT NULL DEFAULT 0,
    report_id INTEGER REFERENCES reports(id),
    created_at TEXT NOT NULL
);
CREATE INDEX duty_logs_shift ON duty_logs(shift_id);

-- Secret calendar feed addresses; only a hash is kept.
CREATE TABLE duty_feeds (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CONSTRAINT duty_feeds_token_hash_key UNIQUE (token_hash)
);
