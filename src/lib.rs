//! wardwatch: the community security work of a Vietnamese ward, as one service.
//!
//! Layers, each depending only on those below: `http` and the capabilities' pages and
//! API (`accounts`, `territory`, `forces`, `sheets`, `demo`), the capabilities' rules,
//! and `store` (SQLite or PostgreSQL behind one trait). `domain`, `text` and `i18n` are
//! shared by all.

pub mod accounts;
pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod duty;
pub mod forces;
pub mod http;
pub mod i18n;
pub mod live;
pub mod open311;
pub mod reports;
pub mod sheets;
pub mod store;
pub mod territory;
pub mod text;
pub mod warnings;
