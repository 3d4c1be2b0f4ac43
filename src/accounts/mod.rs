//! Accounts, roles and sessions: who may see and change what.

pub mod password;
