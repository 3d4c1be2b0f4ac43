//! Subscribing to a ward's warnings outside the browser (web push on a phone; an
//! account's own Zalo, SMS or e-mail; the ward's Zalo group), and the record of who was
//! sent what.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::policy;
use crate::app::AppState;
use crate::domain::Invalid;
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::limit::client_ip;
use crate::store::warnings::{Delivery, NewSubscription};
use crate::territory::service::{groups_of, ward_by_code};

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID public key for `pushManager.subscribe({applicationServerKey})`; null
    /// when this deployment has no web push configured.
    key: Option<String>,
}

/// The server's VAPID key (null when web push is not configured).
#[utoipa::path(get, path = "/api/v1/push/key", tag = "warnings", responses((status = 200, body = PushKey)))]
pub async fn push_key(State(state): State<AppState>) -> Json<PushKey> {
    Json(PushKey {
        key: state.channels.vapid_public_key(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct BrowserKeys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize, ToSchema)]
pub struct BrowserSubscription {
    endpoint: String,
    keys: BrowserKeys,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscribeBody {
    /// Ward code.
    ward: String,
    /// Residential group code, to also get that group's warnings.
    #[serde(default)]
    group: String,
    /// webpush, sms, email or zalo
    channel: String,
    /// For sms (phone), email, zalo ("user:ID", or "group:ID" for officers).
    #[serde(default)]
    address: String,
    /// For webpush: what the browser's `subscription.toJSON()` gives.
    subscription: Option<BrowserSubscription>,
}

#[derive(Serialize, ToSchema)]
pub struct Subscribed {
    id: i64,
}

/// A push endpoint must be https (plain http only on this machine, for tests).
fn push_endpoint_ok(endpoint: &str) -> bool {
    match url::Url::parse(endpoint) {
        Ok(u) if u.scheme() == "https" => u.host_str().is_some(),
        Ok(u) if u.scheme() == "http" => {
            matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        }
        _ => false,
    }
}

/// Subscribe to a ward's warnings on a channel.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "warnings", request_body = SubscribeBody,
    responses((status = 201, body = Subscribed), (status = 403), (status = 422), (status = 429)))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<SubscribeBody>,
) -> Result<Response, AppError> {
    let ward = ward_by_code(state.store.as_ref(), &body.ward).await?;
    let group_id = if body.group.is_empty() {
        None
    } else {
        let groups = groups_of(state.store.as_ref(), ward.id).await?;
        Some(
            groups
                .iter()
                .find(|g| g.code == body.group)
                .map(|g| g.id)
                .ok_or(AppError::field(
                    "group",
                    Invalid("Không có tổ dân phố này trong phường."),
                ))?,
        )
    };
    let user = caller.user();
    let mut sub = NewSubscription {
        ward_id: ward.id,
        group_id,
        user_id: user.map(|u| u.id),
        channel: body.channel.trim().to_lowercase(),
        address: String::new(),
        p256dh: String::new(),
        auth: String::new(),
    };
    match sub.channel.as_str() {
        "webpush" => {
            let s = body.subscription.ok_or(AppError::field(
                "subscription",
                Invalid("Thiếu thông tin đăng ký nhận thông báo của trình duyệt."),
            ))?;
            let base64ok = |v: &str, n: std::ops::RangeInclusive<usize>| {
                n.contains(&v.len())
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=')
            };
            if !push_endpoint_ok(&s.endpoint)
                || s.endpoint.len() > 1000
                || !base64ok(&s.keys.p256dh, 80..=100)
                || !base64ok(&s.keys.auth, 16..=30)
            {
                return Err(AppError::field(
                    "subscription",
                    Invalid("Thông tin đăng ký nhận thông báo không hợp lệ."),
                ));
            }
            if user.is_none() {
                let ip = client_ip(peer.ip(), &headers, state.config.trust_proxy);
                state
                    .report_limit
                    .check(ip)
                    .map_err(|retry_after| AppError::TooManyRequests {
                        retry_after,
                        message: "Địa chỉ này đã gửi nhiều yêu cầu; vui lòng thử lại sau.",
                    })?;
            }
            sub.address = s.endpoint;
            sub.p256dh = s.keys.p256dh;
            sub.auth = s.keys.auth;
        }
        "sms" => {
            caller.require()?;
            let phone = crate::domain::Phone::parse(&body.address)
                .map_err(|e| AppError::field("address", e))?;
            sub.address = phone.as_str().to_string();
        }
        "email" => {
            caller.require()?;
            let e = body.address.trim();
            if e.len() > 254 || !e.contains('@') || e.contains(char::is_whitespace) {
                return Err(AppError::field(
                    "address",
                    Invalid("Địa chỉ e-mail không hợp lệ."),
                ));
            }
            sub.address = e.to_string();
        }
        "zalo" => {
            caller.require()?;
            let a = body.address.trim();
            let (kind, id) = a.split_once(':').unwrap_or(("user", a));
            if id.is_empty()
                || id.len() > 64
                || !id.chars().all(|c| c.is_ascii_alphanumeric())
                || !matches!(kind, "user" | "group")
            {
                return Err(AppError::field(
                    "address",
                    Invalid("Mã Zalo phải có dạng user:ID hoặc group:ID."),
                ));
            }
            // The ward's Zalo group is the officers' to connect.
            if kind == "group" && !policy::can_edit_registry(user, ward.id) {
                return Err(AppError::Forbidden);
            }
            sub.address = format!("{kind}:{id}");
        }
        _ => {
            return Err(AppError::field(
                "channel",
                Invalid("Kênh phải là webpush, sms, email hoặc zalo."),
            ));
        }
    }
    let stored = state.store.add_subscription(sub).await?;
    Ok((StatusCode::CREATED, Json(Subscribed { id: stored.id })).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct UnsubscribeBody {
    channel: String,
    /// The push endpoint, phone, e-mail or Zalo address.
    address: String,
}

/// Stop a subscription (whoever holds its address may).
#[utoipa::path(delete, path = "/api/v1/subscriptions", tag = "warnings", request_body = UnsubscribeBody,
    responses((status = 204), (status = 404)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Json(body): Json<UnsubscribeBody>,
) -> Result<StatusCode, AppError> {
    let address = if body.channel == "sms" {
        crate::domain::Phone::parse(&body.address)
            .map(|p| p.as_str().to_string())
            .unwrap_or(body.address)
    } else {
        body.address
    };
    if state
        .store
        .revoke_subscription(&body.channel, &address)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Who was sent a warning, on which channel, and how it went (officers).
#[utoipa::path(get, path = "/api/v1/warnings/{id}/deliveries", tag = "warnings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Object>), (status = 403)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Delivery>>, AppError> {
    let w = state.store.warning(id).await?.ok_or(AppError::NotFound)?;
    caller.require()?;
    if !policy::can_edit_registry(caller.user(), w.ward_id) {
        return Err(AppError::Forbidden);
    }
    let mut out = Vec::new();
    for e in state.store.warning_events_of(id).await? {
        out.extend(state.store.deliveries_of(e.id).await?);
    }
    Ok(Json(out))
}

/// The service worker that shows pushed warnings; served from the root so that its scope
/// covers every page.
async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/sw.js"),
    )
        .into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/push/key", get(push_key))
        .route("/api/v1/subscriptions", post(subscribe).delete(unsubscribe))
        .route("/api/v1/warnings/{id}/deliveries", get(deliveries))
        .route("/sw.js", get(service_worker))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Thiếu thông tin đăng ký nhận thông báo của trình duyệt.",
        "The browser's push subscription is missing.",
    ),
    (
        "Thông tin đăng ký nhận thông báo không hợp lệ.",
        "The push subscription is not valid.",
    ),
    (
        "Địa chỉ này đã gửi nhiều yêu cầu; vui lòng thử lại sau.",
        "Many requests came from this address; try later.",
    ),
    (
        "Mã Zalo phải có dạng user:ID hoặc group:ID.",
        "A Zalo address is user:ID or group:ID.",
    ),
    (
        "Kênh phải là webpush, sms, email hoặc zalo.",
        "The channel must be webpush, sms, email or zalo.",
    ),
    (
        "Nhận cảnh báo trên điện thoại này",
        "Get warnings on this phone",
    ),
    ("Đã đăng ký nhận cảnh báo.", "Subscribed to warnings."),
];
