//! Service requests: filing one with an API key (it becomes a community report of the
//! key's ward, through the same rules and durable intake as every other channel), and
//! reading a ward's requests in public.
//!
//! What the public reading shows is chosen for the residents' safety: never who reported,
//! positions rounded to 3 decimals (about 100 m), and the description and the address as
//! written only to the application that filed the request (its `api_key` given); others
//! get the residential group and ward instead of the address.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::{
    Failure, Format, Node, Params, Reply, api_key, jurisdiction, service, ward_named, ward_of_key,
};
use crate::app::AppState;
use crate::domain::{Invalid, Name, Phone};
use crate::i18n::{Lang, tr};
use crate::reports::service::{Places, ReportForm, parse_report};
use crate::reports::{Category, Status};
use crate::store::reports::{ApiKey, Report, ReportFilter};
use crate::store::territory::Unit;

/// The largest form body accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The spec's default window of a listing, and its widest.
const WINDOW_DAYS: i64 = 90;
/// At most this many requests in one answer (the spec's default limit).
const MAX_LIST: usize = 1000;
/// How many of a ward's reports since the window's start one listing reads.
const FETCH_LIMIT: i64 = 20_000;

const NOTICE: &str = "Công an phường đã tiếp nhận phản ánh và sẽ xác minh, xử lý. Việc khẩn cấp xin gọi 113 (cháy, nổ: 114). Mã theo dõi:";

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn english(i: Invalid) -> &'static str {
    tr(Lang::En, i.0)
}

/// POST `requests.{json,xml}`.
pub async fn create(
    state: &AppState,
    format: Format,
    mut params: Params,
    headers: &HeaderMap,
    body: Body,
    lang: Lang,
) -> Result<Reply, Failure> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(Failure::bad(
            "Send the request as application/x-www-form-urlencoded, as GeoReport v2 says; other bodies are not accepted.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            Failure::bad("The request body is larger than 64 KiB or could not be read.")
        })?;
    params.extend_form(&bytes);

    let Some(key) = api_key(state, &params).await? else {
        return Err(Failure::forbidden(
            "api_key is required to create a service request.",
        ));
    };
    let ward = ward_of_key(state, &key).await?;
    if let Some(j) = params.value("jurisdiction_id")
        && !j.eq_ignore_ascii_case(&ward.code)
    {
        return Err(Failure::forbidden(format!(
            "This api_key is for jurisdiction '{}'; it cannot file requests in '{}'.",
            ward.code,
            clip(j)
        )));
    }
    let category = service(params.get("service_code"))?;
    let (lat, long) = (params.get("lat"), params.get("long"));
    let address = params.get("address_string");
    if lat.is_empty() != long.is_empty() {
        return Err(Failure::bad("lat and long must be sent together."));
    }
    if lat.is_empty() && address.is_empty() {
        return Err(Failure::bad(if params.value("address_id").is_some() {
            "address_id is not supported by this endpoint; send lat and long (WGS84) or address_string."
        } else {
            "A location is required: lat and long (WGS84), or address_string."
        }));
    }
    let mut description = params.get("description").to_string();
    if let Some(media) = params.value("media_url") {
        // Kept as text for the officers; never fetched.
        check_media_url(media)?;
        description = format!("{description}\n\nmedia_url: {media}")
            .trim()
            .to_string();
    }
    let name = [params.get("first_name"), params.get("last_name")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let form = ReportForm {
        ward: ward.code.clone(),
        category: category.as_str().to_string(),
        description,
        lat: lat.to_string(),
        lon: long.to_string(),
        address: address.to_string(),
        // Who reported is checked below: an application may send a name or an e-mail
        // without a phone, which the residents' form does not allow.
        anonymous: "true".to_string(),
        ..Default::default()
    };
    let mut problems = Vec::new();
    let parsed = match parse_report(&form, &ward, Places::default(), None, "open311") {
        Ok(r) => Some(r),
        Err(e) => {
            let f = Failure::from(e);
            if f.status != StatusCode::BAD_REQUEST {
                return Err(f);
            }
            problems.extend(f.descriptions);
            None
        }
    };
    let reporter = reporter(
        &name,
        params.get("phone"),
        params.get("email"),
        &mut problems,
    );
    let Some(mut report) = parsed.filter(|_| problems.is_empty()) else {
        return Err(Failure {
            status: StatusCode::BAD_REQUEST,
            descriptions: problems,
        });
    };
    if let Some((name, phone, email)) = reporter {
        report.anonymous = false;
        report.reporter_name = name;
        report.reporter_phone = phone;
        report.reporter_email = email;
    }
    report.api_key_id = Some(key.id);
    report.service_code = Some(category.as_str().to_string());
    report.source = "open311".to_string();
    if let Some(device) = params.value("device_id") {
        report.client_key = Some(retry_key(&ward, &key, device, &params));
    }
    let stored = crate::reports::api::submit(state, report).await?;
    let notice = format!(
        "{} {} ({}/track/{})",
        tr(lang, NOTICE),
        stored.tracking_code,
        state.config.base_url(),
        stored.tracking_code
    );
    Ok(Reply::new(
        format,
        "service_requests",
        Node::List(
            "request",
            vec![Node::Object(vec![
                ("service_request_id", Node::text(stored.id.to_string())),
                ("service_notice", Node::text(notice)),
                ("account_id", Node::Null),
            ])],
        ),
    ))
}

fn check_media_url(s: &str) -> Result<(), Failure> {
    let ok = s.len() <= 2048
        && url::Url::parse(s)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(Failure::bad(
            "media_url must be an http or https URL of at most 2048 characters.",
        ))
    }
}

/// The reporter an application names: (name, phone, e-mail), each checked when given;
/// `None` (an anonymous report) when it gives none of them.
fn reporter(
    name: &str,
    phone: &str,
    email: &str,
    problems: &mut Vec<String>,
) -> Option<(String, String, String)> {
    if name.is_empty() && phone.is_empty() && email.is_empty() {
        return None;
    }
    let mut out = (String::new(), String::new(), String::new());
    if !name.is_empty() {
        match Name::parse(name) {
            Ok(n) => out.0 = n.into_string(),
            Err(e) => problems.push(format!("first_name/last_name: {}", english(e))),
        }
    }
    if !phone.is_empty() {
        match Phone::parse(phone) {
            Ok(p) => out.1 = p.as_str().to_string(),
            Err(e) => problems.push(format!("phone: {}", english(e))),
        }
    }
    if !email.is_empty() {
        if email.len() > 254 || !email.contains('@') || email.contains(char::is_whitespace) {
            problems.push("email: Invalid e-mail address.".to_string());
        } else {
            out.2 = email.to_string();
        }
    }
    Some(out)
}

/// A device that sends the same request again the same day (a retry after a lost answer)
/// gets the first request back instead of a second one.
fn retry_key(ward: &Unit, key: &ApiKey, device: &str, params: &Params) -> String {
    let day = Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    let digest = Sha256::digest(format!(
        "{device}\u{0}{day}\u{0}{}",
        params.canonical_without_key()
    ));
    format!(
        "{}:open311:{}:{}",
        ward.id,
        key.id,
        &hex::encode(digest)[..32]
    )
}

/// GET `requests.{json,xml}`: a ward's requests, newest first.
pub async fn list(
    state: &AppState,
    format: Format,
    params: &Params,
    lang: Lang,
) -> Result<Reply, Failure> {
    let key = api_key(state, params).await?;
    let ward = jurisdiction(state, params, key.as_ref()).await?;
    let ids = params.list("service_request_id");
    let reports = if ids.is_empty() {
        filtered(state, &ward, params).await?
    } else {
        // Named requests: every other filter is ignored, as the spec says.
        if ids.len() > MAX_LIST {
            return Err(Failure::bad(format!(
                "At most {MAX_LIST} service_request_id values at once."
            )));
        }
        let mut out: Vec<Report> = Vec::new();
        for id in ids.iter().filter_map(|i| i.parse::<i64>().ok()) {
            if out.iter().any(|r| r.id == id) {
                continue;
            }
            if let Some(r) = state.store.report(id).await?
                && r.ward_id == ward.id
            {
                out.push(r);
            }
        }
        out
    };
    let view = View::new(state, &ward, key.as_ref(), lang).await?;
    Ok(Reply::new(
        format,
        "service_requests",
        Node::List("request", reports.iter().map(|r| view.node(r)).collect()),
    ))
}

fn is_open(r: &Report) -> bool {
    Status::parse(&r.status).is_ok_and(Status::is_open)
}

async fn filtered(state: &AppState, ward: &Unit, params: &Params) -> Result<Vec<Report>, Failure> {
    let codes = params
        .list("service_code")
        .iter()
        .map(|c| service(c))
        .collect::<Result<Vec<Category>, _>>()?;
    let statuses = params
        .list("status")
        .iter()
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "open" => Ok(true),
            "closed" => Ok(false),
            _ => Err(Failure::bad(format!(
                "status '{}' is not known; use open or closed.",
                clip(s)
            ))),
        })
        .collect::<Result<Vec<bool>, _>>()?;
    let (start, end) = window(params)?;
    let filter = ReportFilter {
        since: Some(start),
        category: match codes.as_slice() {
            [one] => Some(one.as_str().to_string()),
            _ => None,
        },
        limit: FETCH_LIMIT,
        ..Default::default()
    };
    let mut out: Vec<Report> = state
        .store
        .reports(ward.id, &filter)
        .await?
        .into_iter()
        .filter(|r| r.created_at <= end)
        .filter(|r| codes.is_empty() || codes.iter().any(|c| c.as_str() == r.category))
        .filter(|r| statuses.is_empty() || statuses.contains(&is_open(r)))
        .collect();
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    out.truncate(MAX_LIST);
    Ok(out)
}

/// The listing's window: `start_date` and `end_date`, by default the last 90 days, never
/// wider than 90 days.
fn window(params: &Params) -> Result<(DateTime<Utc>, DateTime<Utc>), Failure> {
    let start = params
        .value("start_date")
        .map(|s| w3c_datetime(s, "start_date", false))
        .transpose()?;
    let end = params
        .value("end_date")
        .map(|s| w3c_datetime(s, "end_date", true))
        .transpose()?;
    let span = Duration::days(WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => {
            let now = Utc::now();
            (now - span, now)
        }
    };
    if end < start {
        return Err(Failure::bad("end_date is before start_date."));
    }
    if end - start > span {
        return Err(Failure::bad(format!(
            "start_date and end_date may not span more than {WINDOW_DAYS} days."
        )));
    }
    Ok((start, end))
}

/// A W3C datetime with its timezone (`2010-01-01T00:00:00Z`, `…T07:00+07:00`), or a
/// date alone, read as the day in Vietnam (from its start, or to its end for `end`).
pub fn w3c_datetime(s: &str, field: &str, end: bool) -> Result<DateTime<Utc>, Failure> {
    let s = s.trim();
    // A "+" not escaped in a query string arrives as a space.
    let s = match s.rfind(' ') {
        Some(i) if i > 10 => format!("{}+{}", &s[..i], &s[i + 1..]),
        _ => s.to_string(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Ok(t.with_timezone(&Utc));
    }
    let offset = if s.ends_with(['Z', 'z']) {
        format!("{}+00:00", &s[..s.len() - 1])
    } else {
        s.clone()
    };
    if let Ok(t) = DateTime::parse_from_str(&offset, "%Y-%m-%dT%H:%M%:z") {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        let day = if end { d.succ_opt().unwrap_or(d) } else { d };
        if let Some(t) = day.and_hms_opt(0, 0, 0).and_then(|n| {
            chrono_tz::Asia::Ho_Chi_Minh
                .from_local_datetime(&n)
                .single()
        }) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(Failure::bad(format!(
        "{field} must be a W3C datetime with its timezone, e.g. 2010-01-01T00:00:00Z or 2010-01-01T07:00:00+07:00."
    )))
}

/// GET `requests/{id}.{json,xml}`: one request, in a list as the spec shows it.
pub async fn one(
    state: &AppState,
    format: Format,
    id: &str,
    params: &Params,
    lang: Lang,
) -> Result<Reply, Failure> {
    let key = api_key(state, params).await?;
    let not_found = || Failure::not_found(format!("Service request '{}' was not found.", clip(id)));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let r = state.store.report(id).await?.ok_or_else(not_found)?;
    if let Some(j) = params.value("jurisdiction_id")
        && ward_named(state, j).await?.id != r.ward_id
    {
        return Err(not_found());
    }
    let ward = state.store.unit(r.ward_id).await?.ok_or_else(not_found)?;
    let view = View::new(state, &ward, key.as_ref(), lang).await?;
    Ok(Reply::new(
        format,
        "service_requests",
        Node::List("request", vec![view.node(&r)]),
    ))
}

/// Rounds a coordinate to 3 decimals (about 100 m): a report's public position says
/// where, not which house.
pub fn blur(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn w3c(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// How requests of one ward are shown to one reader.
struct View<'a> {
    ward: &'a Unit,
    groups: HashMap<i64, String>,
    key_id: Option<i64>,
    lang: Lang,
}

impl<'a> View<'a> {
    async fn new(
        state: &AppState,
        ward: &'a Unit,
        key: Option<&ApiKey>,
        lang: Lang,
    ) -> Result<Self, Failure> {
        let groups = state
            .store
            .units_of_ward(ward.id)
            .await?
            .into_iter()
            .filter(|u| u.kind().is_grassroots())
            .map(|u| (u.id, u.name))
            .collect();
        Ok(View {
            ward,
            groups,
            key_id: key.map(|k| k.id),
            lang,
        })
    }

    fn node(&self, r: &Report) -> Node {
        // What the resident wrote goes back only to the application that sent it.
        let own = self.key_id.is_some() && r.api_key_id == self.key_id;
        let service_name = Category::parse(&r.category)
            .map(|c| tr(self.lang, c.label()).to_string())
            .unwrap_or_else(|_| r.category.clone());
        let mut fields = vec![
            ("service_request_id", Node::text(r.id.to_string())),
            (
                "status",
                Node::text(if is_open(r) { "open" } else { "closed" }),
            ),
        ];
        if !r.public_answer.trim().is_empty() {
            fields.push(("status_notes", Node::text(r.public_answer.clone())));
        }
        fields.push(("service_name", Node::text(service_name)));
        fields.push(("service_code", Node::text(r.category.clone())));
        if own {
            fields.push(("description", Node::text(r.description.clone())));
        }
        fields.push(("requested_datetime", Node::text(w3c(r.created_at))));
        fields.push(("updated_datetime", Node::text(w3c(r.updated_at))));
        let address = if own && !r.address.trim().is_empty() {
            r.address.clone()
        } else {
            match r.group_id.and_then(|g| self.groups.get(&g)) {
                Some(group) => format!("{group}, {}", self.ward.name),
                None => self.ward.name.clone(),
            }
        };
        fields.push(("address", Node::text(address)));
        if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
            fields.push(("lat", Node::Number(blur(lat))));
            fields.push(("long", Node::Number(blur(lon))));
        }
        Node::Object(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_datetimes() {
        let t = |s| w3c_datetime(s, "start_date", false).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2010-01-01T00:00:00Z").unwrap(),
            "2010-01-01T00:00:00+00:00"
        );
        assert_eq!(
            t("2010-01-01T07:00:00 07:00").unwrap(),
            "2010-01-01T00:00:00+00:00"
        );
        assert_eq!(
            t("2010-01-01T07:00+07:00").unwrap(),
            "2010-01-01T00:00:00+00:00"
        );
        assert_eq!(t("2010-01-01T00:00Z").unwrap(), "2010-01-01T00:00:00+00:00");
        assert_eq!(t("2010-01-02").unwrap(), "2010-01-01T17:00:00+00:00");
        assert_eq!(
            w3c_datetime("2010-01-01", "end_date", true)
                .unwrap()
                .to_rfc3339(),
            "2010-01-01T17:00:00+00:00"
        );
        assert!(t("2010-01-01T00:00:00").is_err());
        assert!(t("yesterday").is_err());
        assert_eq!(blur(20.85567), 20.856);
        assert_eq!(blur(106.69234), 106.692);
    }
}
