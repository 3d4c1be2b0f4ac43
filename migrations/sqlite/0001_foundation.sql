-- Foundation: administrative units, sites, forces, accounts, audit.
-- Kept column-for-column identical to migrations/postgres/0001_foundation.sql.

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES units(id),
    ward_id INTEGER REFERENCES units(id),
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    area_ha REAL,
    founded_year INTEGER,
    households INTEGER,
    residents INTEGER,
    lat REAL,
    lon REAL,
    risk_notes TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    staff_min_members INTEGER,
    staff_base_residents INTEGER,
    staff_step_residents INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT units_code_key UNIQUE (code)
);
CREATE INDEX units_parent ON units(parent_id);
CREATE INDEX units_ward ON units(ward_id);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    group_id INTEGER REFERENCES units(id),
    parent_site_id INTEGER REFERENCES sites(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    search_folded TEXT NOT NULL,
    lat REAL,
    lon REAL,
    floors INTEGER,
    apartments INTEGER,
    residents INTEGER,
    foreign_residents INTEGER,
    rooms INTEGER,
    lodgers INTEGER,
    visitors INTEGER,
    length_m INTEGER,
    schedule TEXT NOT NULL DEFAULT '',
    in_use_since INTEGER,
    risk_notes TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT sites_ward_id_name_key UNIQUE (ward_id, name)
);
CREATE INDEX sites_ward ON sites(ward_id);

CREATE TABLE partner_forces (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    founded_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT partner_forces_ward_id_name_key UNIQUE (ward_id, name)
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    decision_no TEXT NOT NULL DEFAULT '',
    decision_date TEXT,
    founded_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT teams_ward_id_name_key UNIQUE (ward_id, name)
);

-- A team covers one or more residential groups; a group has at most one team.
CREATE TABLE team_groups (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    group_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (team_id, group_id),
    CONSTRAINT team_groups_group_id_key UNIQUE (group_id)
);

-- Everyone in the ward's forces: team members, partner-force volunteers, ward police.
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    ward_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    team_role TEXT,
    force_id INTEGER REFERENCES partner_forces(id),
    full_name TEXT NOT NULL,
    search_folded TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    citizen_id TEXT,
    address TEXT NOT NULL DEFAULT '',
    group_id INTEGER REFERENCES units(id),
    rank_title TEXT NOT NULL DEFAULT '',
    training TEXT NOT NULL DEFAULT '',
    equipment TEXT NOT NULL DEFAULT '',
    joined_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT,
    CONSTRAINT people_citizen_id_key UNIQUE (citizen_id)
);
CREATE INDEX people_ward ON people(ward_id);
CREATE INDEX people_team ON people(team_id);
CREATE UNIQUE INDEX people_team_id_team_role_key ON people(team_id, team_role)
    WHERE team_role IN ('leader', 'deputy') AND archived_at IS NULL;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    ward_id INTEGER REFERENCES units(id),
    group_id INTEGER REFERENCES units(id),
    person_id INTEGER REFERENCES people(id),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    disabled_at TEXT,
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    ward_id INTEGER REFERENCES units(id),
    entity TEXT NOT NULL,
    entity_id INTEGER,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_ward ON audit_log(ward_id, at);
