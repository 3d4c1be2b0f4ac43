//! Warnings (capability 4): the ward police tell the right people at once — the whole
//! ward, some residential groups, the people around a site or a point — live in every
//! open page, in the CAP 1.2 feed, and through outside channels.

pub mod api;
pub mod cap;
pub mod delivery;
pub mod pages;
pub mod service;
pub mod subscribe;

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    api::router()
        .merge(pages::router())
        .merge(subscribe::router())
}
