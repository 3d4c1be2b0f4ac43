//! Warning rules shared by the page and the API: reading a warning, who it reaches, and
//! each publication as a CAP message.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cap::{self, Category, Certainty, MsgType, Severity, Urgency};
use crate::domain::{self, Invalid, LatLon, Role};
use crate::http::error::AppError;
use crate::http::form::{Checker, text};
use crate::store::accounts::User;
use crate::store::territory::Unit;
use crate::store::warnings::{Snapshot, WarningEvent, WarningInput};

/// A warning as a form or JSON body sends it; vocabularies in CAP spelling, any case.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct WarningForm {
    /// Ward code.
    #[serde(deserialize_with = "text")]
    pub ward: String,
    /// One residential group code (the DESIGN's `group`).
    #[serde(deserialize_with = "text")]
    pub group: String,
    /// Several residential group codes, separated by commas.
    #[serde(deserialize_with = "text")]
    pub groups: String,
    /// CAP category: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other.
    #[serde(deserialize_with = "text")]
    pub category: String,
    /// Extreme, Severe, Moderate, Minor, Unknown.
    #[serde(deserialize_with = "text")]
    pub severity: String,
    /// Immediate, Expected, Future, Past, Unknown.
    #[serde(deserialize_with = "text")]
    pub urgency: String,
    /// Observed, Likely, Possible, Unlikely, Unknown (default Likely).
    #[serde(deserialize_with = "text")]
    pub certainty: String,
    /// What kind of event, in words (default: the category).
    #[serde(deserialize_with = "text")]
    pub event: String,
    #[serde(deserialize_with = "text")]
    pub title: String,
    #[serde(deserialize_with = "text")]
    pub body: String,
    /// What to do (e.g. which streets to avoid).
    #[serde(deserialize_with = "text")]
    pub instruction: String,
    /// A site id: the warning is about the people around it.
    #[serde(deserialize_with = "text")]
    pub site: String,
    /// A point and radius (metres): the people around it.
    #[serde(deserialize_with = "text")]
    pub lat: String,
    #[serde(deserialize_with = "text")]
    pub lon: String,
    #[serde(deserialize_with = "text")]
    pub radius_m: String,
    /// dd/mm/yyyy HH:MM or ISO 8601; default 24 hours from now.
    #[serde(deserialize_with = "text")]
    pub expires: String,
    /// "false" for a warning only the ward's own people see (default public).
    #[serde(deserialize_with = "text")]
    pub public: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

fn parse_time(s: &str) -> Result<Option<DateTime<Utc>>, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    ["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(|n| tz.from_local_datetime(&n).single())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .map(Some)
        .ok_or(Invalid(
            "Thời gian viết theo dạng dd/mm/yyyy HH:MM, ví dụ 19/10/2023 21:30.",
        ))
}

pub fn parse_warning(
    form: &WarningForm,
    ward: &Unit,
    groups: &[Unit],
    site_ids: &[i64],
) -> Result<WarningInput, AppError> {
    let now = Utc::now();
    let mut c = Checker::default();
    let category = c.check("category", Category::parse(&form.category));
    let severity = c.check("severity", Severity::parse(&form.severity));
    let urgency = c.check("urgency", Urgency::parse(&form.urgency));
    let certainty = if form.certainty.trim().is_empty() {
        Some(Certainty::Likely)
    } else {
        c.check("certainty", Certainty::parse(&form.certainty))
    };
    let title = c.check("title", domain::Name::parse(&form.title));
    let body = c.check("body", domain::free_text(&form.body));
    if body.as_deref().is_some_and(str::is_empty) {
        c.fail("body", "Hãy viết nội dung cảnh báo.");
    }
    let instruction = c
        .check("instruction", domain::free_text(&form.instruction))
        .unwrap_or_default();
    let event = c
        .check("event", domain::free_text(&form.event))
        .unwrap_or_default();
    let mut group_ids = Vec::new();
    for code in form
        .group
        .split(',')
        .chain(form.groups.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match groups.iter().find(|g| g.code == code.to_lowercase()) {
            Some(g) if !group_ids.contains(&g.id) => group_ids.push(g.id),
            Some(_) => {}
            None => c.fail("groups", "Không có tổ dân phố này trong phường."),
        }
    }
    let site_id = if form.site.trim().is_empty() {
        None
    } else {
        let s = form
            .site
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| site_ids.contains(id));
        if s.is_none() {
            c.fail("site", "Không có địa bàn này trong phường.");
        }
        s
    };
    let point = c
        .check("lat", LatLon::parse_pair(&form.lat, &form.lon))
        .flatten();
    let radius_m = c
        .check("radius_m", domain::parse_count(&form.radius_m))
        .flatten();
    if point.is_some() && !radius_m.is_some_and(|r| (50..=20_000).contains(&r)) {
        c.fail("radius_m", "Bán kính từ 50 m đến 20 km.");
    }
    let audience = match (group_ids.is_empty(), site_id, point) {
        (false, _, _) => "groups",
        (true, Some(_), _) => "site",
        (true, None, Some(_)) => "circle",
        _ => "ward",
    };
    let expires = c.check("expires", parse_time(&form.expires)).flatten();
    if expires.is_some_and(|e| e <= now) {
        c.fail("expires", "Thời điểm hết hiệu lực phải ở tương lai.");
    }
    let public = !matches!(
        form.public.trim().to_ascii_lowercase().as_str(),
        "false" | "0" | "off" | "no"
    );
    let input = match (category, severity, urgency, certainty, title, body) {
        (Some(cat), Some(sev), Some(urg), Some(cer), Some(title), Some(body)) => {
            Some(WarningInput {
                ward_id: ward.id,
                category: cat.as_cap().to_string(),
                severity: sev.as_cap().to_string(),
                urgency: urg.as_cap().to_string(),
                certainty: cer.as_cap().to_string(),
                event: if event.is_empty() {
                    cat.label().to_string()
                } else {
                    event
                },
                headline: title.into_string(),
                body,
                instruction,
                audience: audience.to_string(),
                group_ids,
                site_id,
                lat: point.map(|p| p.lat),
                lon: point.map(|p| p.lon),
                radius_m: point.and(radius_m),
                public,
                expires_at: Some(expires.unwrap_or(now + chrono::Duration::hours(24))),
            })
        }
        _ => None,
    };
    c.finish(input)
}

/// Whether a publication reaches this caller: the ward's officers and leaders see all;
/// its people see what is for the whole ward, an area, or their residential group;
/// anyone sees the ward's public warnings.
pub fn reaches(s: &Snapshot, user: Option<&User>) -> bool {
    let w = &s.warning;
    match user {
        Some(u) if u.role() == Role::Admin => true,
        Some(u) if u.ward_id == Some(w.ward_id) => match u.role() {
            Role::Officer | Role::Leadership => true,
            _ => {
                w.audience != "groups"
                    || u.group_id.is_some_and(|g| s.group_ids.contains(&g))
                    || w.public
            }
        },
        _ => w.public,
    }
}

/// Whether a publication goes to an outside subscription: ward-wide and area warnings to
/// everyone of the ward, group warnings to that group's subscribers; a warning for the
/// ward's own people only to subscriptions tied to an account.
pub fn reaches_subscription(s: &Snapshot, sub: &crate::store::warnings::Subscription) -> bool {
    let w = &s.warning;
    let group_ok = w.audience != "groups" || sub.group_id.is_some_and(|g| s.group_ids.contains(&g));
    let public_ok = w.public || sub.user_id.is_some();
    sub.ward_id == w.ward_id && group_ok && public_ok
}

/// What a live listener receives for a publication.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveWarning {
    pub event_id: i64,
    pub warning_id: i64,
    /// alert, update or cancel
    pub msg_type: String,
    pub ward_id: i64,
    pub category: String,
    pub severity: String,
    pub urgency: String,
    pub headline: String,
    pub body: String,
    pub instruction: String,
    pub audience: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub sent_at: DateTime<Utc>,
    /// The version of the warning this publication carries (its last change).
    pub updated_at: DateTime<Utc>,
}

impl LiveWarning {
    pub fn new(e: &WarningEvent, s: &Snapshot) -> Self {
        let w = &s.warning;
        LiveWarning {
            event_id: e.id,
            warning_id: w.id,
            msg_type: e.msg_type.clone(),
            ward_id: w.ward_id,
            category: w.category.clone(),
            severity: w.severity.clone(),
            urgency: w.urgency.clone(),
            headline: w.headline.clone(),
            body: w.body.clone(),
            instruction: w.instruction.clone(),
            audience: w.audience.clone(),
            expires_at: w.expires_at,
            sent_at: e.at,
            updated_at: w.updated_at,
        }
    }
}

pub fn cap_identifier(ward_code: &str, event_id: i64) -> String {
    format!("wardwatch-{ward_code}-{event_id}")
}

pub fn cap_sender(ward_code: &str, base_url: &str) -> String {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "wardwatch.local".into());
    format!("{ward_code}@{host}")
}

/// One publication as a CAP message; `earlier` are the warning's previous publications.
pub fn cap_message(
    event: &WarningEvent,
    earlier: &[WarningEvent],
    ward: &Unit,
    group_names: &[String],
    site: Option<(&str, Option<f64>, Option<f64>)>,
    base_url: &str,
) -> Option<cap::CapMessage> {
    let s = event.snapshot()?;
    let w = &s.warning;
    let sender = cap_sender(&ward.code, base_url);
    let msg_type = match event.msg_type.as_str() {
        "update" => MsgType::Update,
        "cancel" => MsgType::Cancel,
        _ => MsgType::Alert,
    };
    let area_desc = match w.audience.as_str() {
        "groups" => format!("{}, {}", group_names.join(", "), ward.name),
        "site" => format!("{}, {}", site.map(|s| s.0).unwrap_or_default(), ward.name),
        _ => ward.name.clone(),
    };
    let circle = match (w.lat, w.lon, w.radius_m) {
        (Some(la), Some(lo), Some(r)) => Some((la, lo, r as f64 / 1000.0)),
        _ => match site {
            Some((_, Some(la), Some(lo))) => Some((la, lo, 0.3)),
            _ => None,
        },
    };
    Some(cap::CapMessage {
        identifier: cap_identifier(&ward.code, event.id),
        sender: sender.clone(),
        sent: event.at,
        msg_type,
        references: earlier
            .iter()
            .filter(|e| e.id < event.id)
            .map(|e| cap::Reference {
                sender: sender.clone(),
                identifier: cap_identifier(&ward.code, e.id),
                sent: e.at,
            })
            .collect(),
        scope_public: w.public,
        restriction: if w.public {
            String::new()
        } else {
            area_desc.clone()
        },
        language: "vi-VN".into(),
        category: Category::parse(&w.category).unwrap_or(Category::Other),
        event: w.event.clone(),
        urgency: Urgency::parse(&w.urgency).unwrap_or(Urgency::Unknown),
        severity: Severity::parse(&w.severity).unwrap_or(Severity::Unknown),
        certainty: Certainty::parse(&w.certainty).unwrap_or(Certainty::Unknown),
        expires: w.expires_at,
        sender_name: format!("Công an {}", ward.name),
        headline: w.headline.clone(),
        description: w.body.clone(),
        instruction: (!w.instruction.is_empty()).then(|| w.instruction.clone()),
        web: Some(format!("{}/warnings/{}", base_url, w.id)),
        contact: None,
        areas: vec![cap::Area {
            desc: area_desc,
            circle,
            geocodes: vec![("wardwatch".into(), ward.code.clone())],
        }],
    })
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Hãy viết nội dung cảnh báo.",
        "Write what the warning says.",
    ),
    (
        "Bán kính từ 50 m đến 20 km.",
        "The radius is 50 m to 20 km.",
    ),
    (
        "Thời điểm hết hiệu lực phải ở tương lai.",
        "The expiry must be in the future.",
    ),
];
