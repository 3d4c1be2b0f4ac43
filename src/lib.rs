//! wardwatch: the community security work of a Vietnamese ward, as one service.

pub mod domain;
pub mod store;
pub mod text;
pub mod accounts;
