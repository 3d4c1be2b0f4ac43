//! The HTTP edge: errors, callers, pages' shared parts, assets, health and the API docs.

pub mod assets;
pub mod ctx;
pub mod error;
pub mod form;
pub mod health;
pub mod lean;
pub mod limit;
pub mod openapi;
pub mod pages;
