//! The reporting rules shared by the page, the JSON API and Open311: reading a report,
//! who sees what of it, the steps of triage, and finding likely duplicates.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Category, Status};
use crate::accounts::policy;
use crate::domain::{self, Invalid, LatLon, Name, Phone, Role};
use crate::http::error::AppError;
use crate::http::form::{Checker, text};
use crate::store::Store;
use crate::store::accounts::User;
use crate::store::reports::{NewReport, Report};
use crate::store::territory::Unit;

/// A report as a form, the JSON API or Open311 sends it; every field is text.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ReportForm {
    /// Ward code.
    #[serde(deserialize_with = "text")]
    pub ward: String,
    /// fire, crime, suspicious, traffic, public_order, social_evils, domestic_violence, other
    #[serde(deserialize_with = "text")]
    pub category: String,
    #[serde(deserialize_with = "text")]
    pub description: String,
    /// When it happened: dd/mm/yyyy HH:MM, or ISO 8601; empty for "now".
    #[serde(deserialize_with = "text")]
    pub occurred_at: String,
    #[serde(deserialize_with = "text")]
    pub lat: String,
    #[serde(deserialize_with = "text")]
    pub lon: String,
    /// "true" when the reporter does not know the exact place.
    #[serde(deserialize_with = "text")]
    pub place_unknown: String,
    /// Residential group code.
    #[serde(deserialize_with = "text")]
    pub group: String,
    /// Site id from the registry.
    #[serde(deserialize_with = "text")]
    pub site: String,
    #[serde(deserialize_with = "text")]
    pub address: String,
    /// "true" to report without name or phone.
    #[serde(deserialize_with = "text")]
    pub anonymous: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub phone: String,
    #[serde(deserialize_with = "text")]
    pub email: String,
    #[serde(deserialize_with = "text")]
    pub captcha_token: String,
    #[serde(deserialize_with = "text")]
    pub captcha_answer: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "on" | "yes" | "co"
    )
}

/// Vietnam's bounding box: a position outside it is a typo, not a report of ours.
fn in_vietnam(p: LatLon) -> bool {
    (8.0..=23.5).contains(&p.lat) && (102.0..=110.5).contains(&p.lon)
}

fn parse_when(s: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let local = [
        "%d/%m/%Y %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .and_then(|n| tz.from_local_datetime(&n).single())
    .map(|t| t.with_timezone(&Utc));
    let when = local
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .ok_or(Invalid(
            "Thời gian viết theo dạng dd/mm/yyyy HH:MM, ví dụ 19/10/2023 21:30.",
        ))?;
    if when > now + chrono::Duration::minutes(10) {
        return Err(Invalid("Thời gian xảy ra không thể ở tương lai."));
    }
    if when < now - chrono::Duration::days(366) {
        return Err(Invalid(
            "Chỉ nhận phản ánh về việc xảy ra trong vòng một năm.",
        ));
    }
    Ok(Some(when))
}

/// The residential group and the site a form names, as the ward's registry knows them:
/// `None` for a field left empty, `Some(None)` for one the ward does not have.
#[derive(Debug, Default, Clone, Copy)]
pub struct Places {
    pub group: Option<Option<i64>>,
    pub site: Option<Option<i64>>,
}

impl Places {
    /// Look up only what the form names, by its key: a report that names no group or
    /// site costs no read of the ward's registry.
    pub async fn of(store: &dyn Store, ward: &Unit, form: &ReportForm) -> Result<Self, AppError> {
        let code = form.group.trim();
        let group = if code.is_empty() {
            None
        } else {
            Some(
                store
                    .unit_by_code(&code.to_lowercase())
                    .await?
                    .filter(|g| {
                        g.ward_id == Some(ward.id)
                            && g.id != ward.id
                            && g.kind().is_grassroots()
                            && g.archived_at.is_none()
                    })
                    .map(|g| g.id),
            )
        };
        let site = form.site.trim();
        let site = if site.is_empty() {
            None
        } else {
            Some(match site.parse::<i64>() {
                Ok(id) => store
                    .site(id)
                    .await?
                    .filter(|s| s.ward_id == ward.id && s.archived_at.is_none())
                    .map(|s| s.id),
                Err(_) => None,
            })
        };
        Ok(Places { group, site })
    }
}

/// Check a report; `reporter` is the logged-in account, if any. Captcha and rate limits
/// are the caller's business (they depend on the channel).
pub fn parse_report(
    form: &ReportForm,
    ward: &Unit,
    places: Places,
    reporter: Option<&User>,
    source: &str,
) -> Result<NewReport, AppError> {
    let now = Utc::now();
    let mut c = Checker::default();
    let category = c.check("category", Category::parse(&form.category));
    let description = c.check("description", domain::free_text(&form.description));
    if let Some(d) = &description
        && crate::text::graphemes_under(d, 10)
    {
        c.fail("description", "Hãy kể lại sự việc, ít nhất 10 ký tự.");
    }
    let occurred_at = c
        .check("occurred_at", parse_when(&form.occurred_at, now))
        .flatten();
    let position = c
        .check("lat", LatLon::parse_pair(&form.lat, &form.lon))
        .flatten();
    if position.is_some_and(|p| !in_vietnam(p)) {
        c.fail("lat", "Vị trí nằm ngoài Việt Nam; hãy kiểm tra lại toạ độ.");
    }
    let group_id = places.group.and_then(|g| {
        if g.is_none() {
            c.fail("group", "Không có tổ dân phố này trong phường.");
        }
        g
    });
    let site_id = places.site.and_then(|s| {
        if s.is_none() {
            c.fail("site", "Không có địa bàn này trong phường.");
        }
        s
    });
    let address = c
        .check("address", domain::free_text(&form.address))
        .unwrap_or_default();
    let place_unknown = truthy(&form.place_unknown);
    if position.is_none()
        && group_id.is_none()
        && site_id.is_none()
        && address.is_empty()
        && !place_unknown
    {
        c.fail(
            "place",
            "Cho biết nơi xảy ra (vị trí, tổ dân phố, địa bàn hoặc địa chỉ), hoặc chọn “Tôi không nhớ chính xác nơi xảy ra”.",
        );
    }
    let anonymous = truthy(&form.anonymous);
    let (mut name, mut phone, mut email) = (String::new(), String::new(), String::new());
    if !anonymous {
        name = match reporter {
            Some(u) if form.name.trim().is_empty() => {
                if u.display_name.is_empty() {
                    u.username.clone()
                } else {
                    u.display_name.clone()
                }
            }
            _ => c
                .check("name", Name::parse(&form.name))
                .map(Name::into_string)
                .unwrap_or_default(),
        };
        if !form.phone.trim().is_empty() {
            phone = c
                .check("phone", Phone::parse(&form.phone))
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
        } else if reporter.is_none() {
            c.fail(
                "phone",
                "Để lại số điện thoại để Công an phường gọi lại xác minh, hoặc chọn gửi ẩn danh.",
            );
        }
        let e = form.email.trim();
        if !e.is_empty() {
            if e.len() > 254 || !e.contains('@') || e.contains(char::is_whitespace) {
                c.fail("email", "Địa chỉ e-mail không hợp lệ.");
            } else {
                email = e.to_string();
            }
        }
    }
    let input = match (category, description) {
        (Some(category), Some(description)) => Some(NewReport {
            ward_id: ward.id,
            // Given by intake, which stores it (`Intake::submit`), as is the search key.
            tracking_no: 0,
            tracking_code: String::new(),
            category: category.as_str().to_string(),
            description,
            occurred_at,
            lat: position.map(|p| p.lat),
            lon: position.map(|p| p.lon),
            place_unknown,
            group_id,
            site_id,
            address,
            priority: category.priority(),
            anonymous,
            reporter_name: name,
            reporter_phone: phone,
            reporter_email: email,
            // An anonymous report keeps no link to the account either.
            reporter_user_id: if anonymous {
                None
            } else {
                reporter.map(|u| u.id)
            },
            source: source.to_string(),
            service_code: None,
            api_key_id: None,
            client_key: None,
            search_folded: String::new(),
        }),
        _ => None,
    };
    c.finish(input)
}

/// How much of a report a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportAccess {
    None,
    /// The reporter's own report or a team leader's group: everything but who reported.
    Content,
    /// Officers: everything, the reporter too (and the view is audited).
    Full,
}

pub fn access(user: Option<&User>, r: &Report) -> ReportAccess {
    let Some(u) = user else {
        return ReportAccess::None;
    };
    let in_ward = u.ward_id == Some(r.ward_id);
    match u.role() {
        Role::Admin => ReportAccess::Full,
        Role::Officer if in_ward => ReportAccess::Full,
        Role::Leadership if in_ward => ReportAccess::Content,
        Role::TeamLeader if in_ward && r.group_id.is_some() && r.group_id == u.group_id => {
            ReportAccess::Content
        }
        _ if r.reporter_user_id == Some(u.id) => ReportAccess::Content,
        _ => ReportAccess::None,
    }
}

/// Who may list a ward's reports: officers, leadership, team leaders (their group).
pub fn can_list(user: Option<&User>, ward_id: i64) -> bool {
    user.is_some_and(|u| {
        u.role() == Role::Admin
            || (u.ward_id == Some(ward_id)
                && matches!(
                    u.role(),
                    Role::Officer | Role::Leadership | Role::TeamLeader
                ))
    })
}

pub fn can_handle(user: Option<&User>, ward_id: i64) -> bool {
    policy::can_edit_registry(user, ward_id)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reporter {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub user_id: Option<i64>,
}

/// A report as one caller may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub tracking_code: String,
    pub ward_id: i64,
    pub category: String,
    pub description: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub place_unknown: bool,
    pub group_id: Option<i64>,
    pub site_id: Option<i64>,
    pub address: String,
    pub status: String,
    pub priority: i64,
    pub merged_into: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub assigned_team_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub anonymous: bool,
    pub source: String,
    pub public_answer: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only for officers; every time it is shown, the view is audited.
    pub reporter: Option<Reporter>,
}

impl ReportView {
    pub fn new(r: &Report, full: bool) -> Self {
        ReportView {
            id: r.id,
            tracking_code: r.tracking_code.clone(),
            ward_id: r.ward_id,
            category: r.category.clone(),
            description: r.description.clone(),
            occurred_at: r.occurred_at,
            lat: r.lat,
            lon: r.lon,
            place_unknown: r.place_unknown,
            group_id: r.group_id,
            site_id: r.site_id,
            address: r.address.clone(),
            status: r.status.clone(),
            priority: r.priority,
            merged_into: r.merged_into,
            assigned_user_id: r.assigned_user_id,
            assigned_team_id: r.assigned_team_id,
            incident_id: r.incident_id,
            anonymous: r.anonymous,
            source: r.source.clone(),
            public_answer: r.public_answer.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            reporter: (full && !r.anonymous).then(|| Reporter {
                name: r.reporter_name.clone(),
                phone: r.reporter_phone.clone(),
                email: r.reporter_email.clone(),
                user_id: r.reporter_user_id,
            }),
        }
    }
}

/// Audit that an officer was shown who reported these reports.
pub async fn audit_reporter_views(
    store: &dyn Store,
    user: Option<&User>,
    reports: &[&Report],
) -> Result<(), AppError> {
    let actor = crate::store::Actor {
        user_id: user.map(|u| u.id),
    };
    for r in reports.iter().filter(|r| !r.anonymous) {
        store
            .record_view(actor, r.ward_id, "report", r.id, "reporter identity")
            .await?;
    }
    Ok(())
}

/// Metres between two positions (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

fn words(s: &str) -> std::collections::HashSet<String> {
    crate::text::fold(s)
        .split(' ')
        .filter(|w| w.len() > 2)
        .map(str::to_string)
        .collect()
}

/// How alike two reports are, 0 to 1: near in place, close in time, the same kind, words
/// in common. Officers confirm every merge; this only proposes.
pub fn likeness(a: &Report, b: &Report) -> f64 {
    let mut score = 0.0;
    if a.category == b.category {
        score += 0.3;
    }
    let hours = (a.created_at - b.created_at).num_minutes().abs() as f64 / 60.0;
    score += 0.2 * (1.0 - (hours / 6.0).min(1.0));
    match (a.lat.zip(a.lon), b.lat.zip(b.lon)) {
        (Some(p), Some(q)) => score += 0.3 * (1.0 - (distance_m(p, q) / 500.0).min(1.0)),
        _ if a.group_id.is_some() && a.group_id == b.group_id => score += 0.15,
        _ if a.site_id.is_some() && a.site_id == b.site_id => score += 0.3,
        _ => {}
    }
    let (wa, wb) = (words(&a.description), words(&b.description));
    let union = wa.union(&wb).count().max(1) as f64;
    score += 0.2 * wa.intersection(&wb).count() as f64 / union;
    score
}

/// Open reports of the ward from the last hours that look like `r`, best first.
pub fn similar<'a>(r: &Report, candidates: &'a [Report]) -> Vec<(&'a Report, f64)> {
    let mut out: Vec<(&Report, f64)> = candidates
        .iter()
        .filter(|c| c.id != r.id && c.merged_into.is_none() && c.status != Status::Merged.as_str())
        .filter(|c| (c.created_at - r.created_at).num_hours().abs() <= 12)
        .map(|c| (c, likeness(r, c)))
        .filter(|(_, s)| *s >= 0.55)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.truncate(5);
    out
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Thời gian viết theo dạng dd/mm/yyyy HH:MM, ví dụ 19/10/2023 21:30.",
        "Write the time as dd/mm/yyyy HH:MM, e.g. 19/10/2023 21:30.",
    ),
    (
        "Thời gian xảy ra không thể ở tương lai.",
        "The time cannot be in the future.",
    ),
    (
        "Chỉ nhận phản ánh về việc xảy ra trong vòng một năm.",
        "Only events of the last year can be reported.",
    ),
    (
        "Hãy kể lại sự việc, ít nhất 10 ký tự.",
        "Describe what happened in at least 10 characters.",
    ),
    (
        "Vị trí nằm ngoài Việt Nam; hãy kiểm tra lại toạ độ.",
        "The position is outside Vietnam; check it.",
    ),
    (
        "Không có địa bàn này trong phường.",
        "The ward has no such site.",
    ),
    (
        "Cho biết nơi xảy ra (vị trí, tổ dân phố, địa bàn hoặc địa chỉ), hoặc chọn “Tôi không nhớ chính xác nơi xảy ra”.",
        "Say where it happened (position, residential group, site or address), or tick “I don't know the exact place”.",
    ),
    (
        "Để lại số điện thoại để Công an phường gọi lại xác minh, hoặc chọn gửi ẩn danh.",
        "Leave a phone number so the ward police can call back, or report anonymously.",
    ),
    ("Địa chỉ e-mail không hợp lệ.", "Invalid e-mail address."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let d = distance_m((20.8555, 106.6930), (20.8564, 106.6930));
        assert!((90.0..110.0).contains(&d), "{d}");
    }

    #[test]
    fn times_are_read_in_vietnam_time() {
        let now = Utc::now();
        let t = parse_when(
            "19/10/2023 21:30",
            Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2023, 10, 19, 14, 30, 0).unwrap());
        assert!(parse_when("31/02/2024 10:00", now).is_err());
        let tomorrow = (now + chrono::Duration::days(1))
            .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .format("%d/%m/%Y %H:%M")
            .to_string();
        assert!(parse_when(&tomorrow, now).is_err());
    }
}
