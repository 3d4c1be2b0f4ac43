//! Open311 GeoReport v2 under `/open311/v2/`, so that existing civic-reporting apps can
//! file community reports into a ward and follow them: service discovery, the service
//! list (one service per report category), POST and GET of service requests, in JSON and
//! XML. Posting needs an API key issued for one ward (`wardwatch apikey add`); reading
//! is public and shows no reporter, blurred positions, and the description and address
//! only to the application that filed the request.
//!
//! Spec: `standards/open311/` (GeoReport_v2_index.md, Service_Discovery.md).

mod doc;
mod requests;

pub use doc::{Failure, Format, Node, Reply};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::app::AppState;
use crate::i18n::{Lang, tr};
use crate::reports::Category;
use crate::store::reports::ApiKey;
use crate::store::territory::Unit;
use crate::store::{Actor, Store};
use crate::territory::service::ward_by_code;

/// Where the endpoint lives, under the deployment's base URL.
pub const PREFIX: &str = "/open311/v2";
/// The specification token of service discovery.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When the service list (the report categories) last changed; sortable.
pub const CHANGESET: &str = "2026-11-23 00:00";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", any(resource))
        .route("/open311/v2/requests/{file}", any(one_request))
        .route("/open311/v2/services/{file}", any(service_definition))
        .route(
            "/open311/{*rest}",
            any(|uri: Uri| async move { unknown(file_of(&uri)) }),
        )
}

/// The last segment of the path (route parameters are read here rather than through
/// `Path`, whose refusals would not come in the spec's error shape).
fn file_of(uri: &Uri) -> &str {
    uri.path().rsplit('/').next().unwrap_or_default()
}

fn unknown(file: &str) -> Response {
    Failure::not_found(format!(
        "No such resource: {file}. See {PREFIX}/discovery.json; resources end in .json or .xml."
    ))
    .render(Format::of(file))
}

fn not_allowed(format: Format, method: &Method, allow: &'static str) -> Response {
    let mut res = Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed here; use {allow}."),
    )
    .render(format);
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

fn is_get(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn answer(format: Format, result: Result<Reply, Failure>) -> Response {
    match result {
        Ok(reply) => reply.into_response(),
        Err(failure) => failure.render(format),
    }
}

/// `/open311/v2/{discovery,services,requests}.{json,xml}`.
async fn resource(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let file = file_of(&uri);
    let Some((stem, format)) = Format::split(file) else {
        return unknown(file);
    };
    let lang = crate::http::ctx::request_lang(&headers, &uri);
    let params = Params::from_query(&uri);
    let result = match stem {
        "discovery" if is_get(&method) => Ok(discovery(&state, format)),
        "services" if is_get(&method) => services(&state, format, &params, lang).await,
        "requests" if is_get(&method) => requests::list(&state, format, &params, lang).await,
        "requests" if method == Method::POST => {
            requests::create(&state, format, params, &headers, body, lang).await
        }
        "requests" => return not_allowed(format, &method, "GET, POST"),
        "discovery" | "services" => return not_allowed(format, &method, "GET"),
        _ => return unknown(file),
    };
    answer(format, result)
}

/// `/open311/v2/requests/{id}.{json,xml}`.
async fn one_request(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let file = file_of(&uri);
    let Some((id, format)) = Format::split(file) else {
        return unknown(file);
    };
    if !is_get(&method) {
        return not_allowed(format, &method, "GET");
    }
    let params = Params::from_query(&uri);
    let lang = crate::http::ctx::request_lang(&headers, &uri);
    answer(
        format,
        requests::one(&state, format, id, &params, lang).await,
    )
}

/// `/open311/v2/services/{code}.{json,xml}`: no service has extra attributes
/// (`metadata` is false), so every definition is empty.
async fn service_definition(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let file = file_of(&uri);
    let Some((code, format)) = Format::split(file) else {
        return unknown(file);
    };
    if !is_get(&method) {
        return not_allowed(format, &method, "GET");
    }
    let params = Params::from_query(&uri);
    let result = async {
        if let Some(j) = params.value("jurisdiction_id") {
            ward_named(&state, j).await?;
        }
        // A definition is a resource: an unknown code is not found.
        let category = service(code).map_err(|f| Failure {
            status: StatusCode::NOT_FOUND,
            ..f
        })?;
        Ok(Reply::new(
            format,
            "service_definition",
            Node::Object(vec![
                ("service_code", Node::text(category.as_str())),
                ("attributes", Node::List("attribute", Vec::new())),
            ]),
        ))
    }
    .await;
    answer(format, result)
}

/// The request's parameters: the query string and, for POST, the form body after it
/// (so the body wins). A parameter sent empty counts as not sent.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(uri: &Uri) -> Self {
        let mut p = Params::default();
        if let Some(q) = uri.query() {
            p.extend_form(q.as_bytes());
        }
        p
    }

    pub fn extend_form(&mut self, form: &[u8]) {
        self.0.extend(
            url::form_urlencoded::parse(form).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }

    /// The last non-empty value of `name`, trimmed.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    pub fn get(&self, name: &str) -> &str {
        self.value(name).unwrap_or_default()
    }

    /// Every value of `name`, the parameter repeated or comma-separated.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The parameters but the API key, in a stable order (for an idempotency key).
    pub fn canonical_without_key(&self) -> String {
        let mut pairs: Vec<&(String, String)> =
            self.0.iter().filter(|(k, _)| k != "api_key").collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{0}")
    }
}

/// A service code: a report category's code (any letter case).
pub fn service(code: &str) -> Result<Category, Failure> {
    let code = code.trim();
    if code.is_empty() {
        return Err(Failure::bad(
            "service_code was not provided; see services.json for the codes.",
        ));
    }
    Category::ALL
        .iter()
        .copied()
        .find(|c| c.as_str().eq_ignore_ascii_case(code))
        .ok_or_else(|| {
            Failure::bad(format!(
                "service_code '{}' was not found; the codes are {} (see services.json).",
                code.chars().take(60).collect::<String>(),
                Category::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The ward a `jurisdiction_id` names.
pub async fn ward_named(state: &AppState, code: &str) -> Result<Unit, Failure> {
    ward_by_code(state.store.as_ref(), code).await.map_err(|e| match e {
        crate::http::error::AppError::NotFound => Failure::not_found(format!(
            "jurisdiction_id '{}' was not found; it is a ward code, as listed by /api/v1/wards.",
            code.chars().take(60).collect::<String>()
        )),
        other => Failure::from(other),
    })
}

/// The ward of a read: the `jurisdiction_id`, else the API key's ward, else the only
/// ward of the deployment.
pub async fn jurisdiction(
    state: &AppState,
    params: &Params,
    key: Option<&ApiKey>,
) -> Result<Unit, Failure> {
    if let Some(code) = params.value("jurisdiction_id") {
        return ward_named(state, code).await;
    }
    if let Some(k) = key {
        return ward_of_key(state, k).await;
    }
    let wards = state.store.wards().await?;
    match wards.as_slice() {
        [only] => ward_named(state, &only.code).await,
        [] => Err(Failure::not_found("This deployment serves no ward yet.")),
        many => Err(Failure::bad(format!(
            "jurisdiction_id was not provided; this endpoint serves several wards: {}.",
            many.iter()
                .map(|w| w.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub async fn ward_of_key(state: &AppState, key: &ApiKey) -> Result<Unit, Failure> {
    state
        .store
        .unit(key.ward_id)
        .await?
        .ok_or_else(|| Failure::forbidden("The ward of this api_key no longer exists."))
}

/// The key an `api_key` parameter names; `None` when none was sent.
pub async fn api_key(state: &AppState, params: &Params) -> Result<Option<ApiKey>, Failure> {
    let Some(token) = params.value("api_key") else {
        return Ok(None);
    };
    let invalid = || Failure::forbidden("Invalid api_key received; ask the ward for a valid key.");
    if token.len() > 128 {
        return Err(invalid());
    }
    let hash = crate::http::ctx::hash_token(token);
    match state.store.api_key_by_hash(&hash).await? {
        Some(k) if k.revoked_at.is_none() => Ok(Some(k)),
        _ => Err(invalid()),
    }
}

fn discovery(state: &AppState, format: Format) -> Reply {
    let base = state.config.base_url();
    let formats = Node::List(
        "format",
        vec![Node::text("text/xml"), Node::text("application/json")],
    );
    Reply::new(
        format,
        "discovery",
        Node::Object(vec![
            ("changeset", Node::text(CHANGESET)),
            (
                "contact",
                Node::text(format!(
                    "Community reports go to the ward police (Công an phường) of each ward; \
                     for this API, contact the operator of {base}. Emergencies: call 113 (fire: 114)."
                )),
            ),
            (
                "key_service",
                Node::text(
                    "Posting needs an API key for one ward, issued by the operator of this \
                     deployment (wardwatch apikey add --ward WARD_CODE --name APP). Reading needs no key.",
                ),
            ),
            (
                "endpoints",
                Node::List(
                    "endpoint",
                    vec![Node::Object(vec![
                        ("specification", Node::text(SPECIFICATION)),
                        ("url", Node::text(format!("{base}{PREFIX}"))),
                        ("changeset", Node::text(CHANGESET)),
                        ("type", Node::text("production")),
                        ("formats", formats),
                    ])],
                ),
            ),
        ]),
    )
}

/// What a service covers, in Vietnamese (the residents' language; English by `?lang=en`).
fn service_description(c: Category) -> &'static str {
    match c {
        Category::Fire => "Cháy, nổ, khói bất thường, nguy cơ cháy nổ. Đang cháy: gọi ngay 114.",
        Category::Crime => {
            "Trộm cắp, cướp giật, lừa đảo, gây rối, đánh nhau gây thương tích. Khẩn cấp: gọi 113."
        }
        Category::Suspicious => "Người lạ, phương tiện lạ, hoạt động đáng ngờ trên địa bàn.",
        Category::Traffic => {
            "Tai nạn, ùn tắc, đua xe, lấn chiếm lòng đường, vi phạm trật tự an toàn giao thông."
        }
        Category::PublicOrder => {
            "Tụ tập gây mất trật tự, gây ồn ào, lấn chiếm vỉa hè, xả rác nơi công cộng."
        }
        Category::SocialEvils => "Ma tuý, cờ bạc, mại dâm và các tệ nạn xã hội khác.",
        Category::DomesticViolence => {
            "Đánh đập, ngược đãi, đe doạ trong gia đình. Nguy hiểm ngay: gọi 113."
        }
        Category::Other => "Việc khác về an ninh, trật tự cần Công an phường biết.",
    }
}

fn service_group(c: Category) -> &'static str {
    match c {
        Category::Fire => "Phòng cháy, chữa cháy",
        Category::Traffic => "Giao thông",
        Category::Other => "Khác",
        _ => "An ninh, trật tự",
    }
}

fn service_keywords(c: Category) -> &'static str {
    match c {
        Category::Fire => "cháy, nổ, khói, PCCC, fire, explosion, smoke",
        Category::Crime => "trộm, cướp, lừa đảo, gây rối, theft, robbery, fraud, assault",
        Category::Suspicious => "khả nghi, người lạ, xe lạ, suspicious, stranger",
        Category::Traffic => "giao thông, tai nạn, ùn tắc, đua xe, traffic, accident, racing",
        Category::PublicOrder => "trật tự, ồn ào, tụ tập, vỉa hè, noise, disorder, sidewalk",
        Category::SocialEvils => "ma tuý, cờ bạc, mại dâm, drugs, gambling, prostitution",
        Category::DomesticViolence => "bạo lực gia đình, ngược đãi, domestic violence, abuse",
        Category::Other => "khác, other",
    }
}

async fn services(
    state: &AppState,
    format: Format,
    params: &Params,
    lang: Lang,
) -> Result<Reply, Failure> {
    // Every ward offers the same services: the jurisdiction only has to exist.
    if let Some(j) = params.value("jurisdiction_id") {
        ward_named(state, j).await?;
    }
    let list = Category::ALL
        .iter()
        .map(|&c| {
            Node::Object(vec![
                ("service_code", Node::text(c.as_str())),
                ("service_name", Node::text(tr(lang, c.label()))),
                ("description", Node::text(tr(lang, service_description(c)))),
                ("metadata", Node::Bool(false)),
                ("type", Node::text("realtime")),
                ("keywords", Node::text(service_keywords(c))),
                ("group", Node::text(tr(lang, service_group(c)))),
            ])
        })
        .collect();
    Ok(Reply::new(format, "services", Node::List("service", list)))
}

/// Issue an API key for a client application in one ward: answers the stored key and the
/// key itself, which is shown once (only its SHA-256 hash is kept).
pub async fn issue_key(
    store: &dyn Store,
    actor: Actor,
    ward_code: &str,
    name: &str,
) -> anyhow::Result<(ApiKey, String)> {
    let ward = ward_by_code(store, ward_code)
        .await
        .map_err(|_| anyhow::anyhow!("no ward with code {ward_code}"))?;
    let name = crate::domain::Name::parse(name)
        .map_err(|e| anyhow::anyhow!("--name: {}", tr(Lang::En, e.0)))?;
    let token = crate::http::ctx::random_token();
    let key = store
        .create_api_key(
            actor,
            ward.id,
            name.as_str(),
            &crate::http::ctx::hash_token(&token),
        )
        .await?;
    Ok((key, token))
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Cháy, nổ, khói bất thường, nguy cơ cháy nổ. Đang cháy: gọi ngay 114.",
        "Fire, explosion, unusual smoke, fire hazards. If something is burning, call 114 now.",
    ),
    (
        "Trộm cắp, cướp giật, lừa đảo, gây rối, đánh nhau gây thương tích. Khẩn cấp: gọi 113.",
        "Theft, snatching, fraud, disturbances, fights with injuries. In an emergency, call 113.",
    ),
    (
        "Người lạ, phương tiện lạ, hoạt động đáng ngờ trên địa bàn.",
        "Strangers, unknown vehicles, suspicious activity in the area.",
    ),
    (
        "Tai nạn, ùn tắc, đua xe, lấn chiếm lòng đường, vi phạm trật tự an toàn giao thông.",
        "Accidents, congestion, street racing, blocked roads, traffic violations.",
    ),
    (
        "Tụ tập gây mất trật tự, gây ồn ào, lấn chiếm vỉa hè, xả rác nơi công cộng.",
        "Disorderly gatherings, noise, occupied sidewalks, littering in public places.",
    ),
    (
        "Ma tuý, cờ bạc, mại dâm và các tệ nạn xã hội khác.",
        "Drugs, gambling, prostitution and other social evils.",
    ),
    (
        "Đánh đập, ngược đãi, đe doạ trong gia đình. Nguy hiểm ngay: gọi 113.",
        "Beating, abuse or threats within a family. If someone is in danger now, call 113.",
    ),
    (
        "Việc khác về an ninh, trật tự cần Công an phường biết.",
        "Anything else about security and order the ward police should know.",
    ),
    ("Phòng cháy, chữa cháy", "Fire prevention and fighting"),
    (
        "Công an phường đã tiếp nhận phản ánh và sẽ xác minh, xử lý. Việc khẩn cấp xin gọi 113 (cháy, nổ: 114). Mã theo dõi:",
        "The ward police have received the report and will check and handle it. In an emergency call 113 (fire: 114). Tracking code:",
    ),
];
