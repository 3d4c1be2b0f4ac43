//! Integration tests of wardwatch: the service runs on port 0 over a fresh database and
//! is driven through HTTP, the command line and the store interface. Every behavioural
//! test runs on SQLite and, when `TEST_DATABASE_URL` names a PostgreSQL server, on a
//! new PostgreSQL database too (see `helpers::both!`).

mod helpers;

mod access;
mod accounts;
mod backup;
mod cli;
mod delivery;
mod demo;
mod duty;
mod exchange;
mod health;
mod nodes;
mod open311;
mod reports;
mod search;
mod store_conformance;
mod validation;
mod warnings;
