//! Accounts, roles and sessions: who may see and change what.

pub mod api;
pub mod pages;
pub mod password;
pub mod policy;
pub mod service;

pub use service::TEXTS;
