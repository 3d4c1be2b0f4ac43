//! wardwatch: the community security work of a Vietnamese ward, as one service.

pub mod accounts;
pub mod domain;
pub mod i18n;
pub mod store;
pub mod text;
