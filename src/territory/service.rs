//! The territory rules shared by pages and API: reading forms into checked inputs,
//! permissions, and the ward overview.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::policy;
use crate::domain::{self, Code, LatLon, Name, SiteKind, UnitKind};
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::http::form::{Checker, text};
use crate::store::Store;
use crate::store::territory::{Site, SiteInput, Staffing, Unit, UnitInput};

/// A unit as a form or JSON body sends it; every field is text.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct UnitForm {
    /// Code of the parent unit (for a residential group: its ward).
    #[serde(deserialize_with = "text")]
    pub parent: String,
    #[serde(deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub code: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub area_ha: String,
    #[serde(deserialize_with = "text")]
    pub founded_year: String,
    #[serde(deserialize_with = "text")]
    pub households: String,
    #[serde(deserialize_with = "text")]
    pub residents: String,
    #[serde(deserialize_with = "text")]
    pub lat: String,
    #[serde(deserialize_with = "text")]
    pub lon: String,
    #[serde(deserialize_with = "text")]
    pub risk_notes: String,
    #[serde(deserialize_with = "text")]
    pub notes: String,
    #[serde(deserialize_with = "text")]
    pub staff_min_members: String,
    #[serde(deserialize_with = "text")]
    pub staff_base_residents: String,
    #[serde(deserialize_with = "text")]
    pub staff_step_residents: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

impl UnitForm {
    pub fn from_unit(u: &Unit, parent_code: String) -> Self {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            parent: parent_code,
            kind: u.kind.clone(),
            code: u.code.clone(),
            name: u.name.clone(),
            area_ha: f(u.area_ha),
            founded_year: n(u.founded_year),
            households: n(u.households),
            residents: n(u.residents),
            lat: f(u.lat),
            lon: f(u.lon),
            risk_notes: u.risk_notes.clone(),
            notes: u.notes.clone(),
            staff_min_members: n(u.staff_min_members),
            staff_base_residents: n(u.staff_base_residents),
            staff_step_residents: n(u.staff_step_residents),
            csrf: String::new(),
        }
    }
}

fn parse_decimal(s: &str) -> Result<Option<f64>, domain::Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.replace(',', ".").parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=1.0e7).contains(&x) => Ok(Some(x)),
        _ => Err(domain::Invalid(
            "Cần một số thập phân không âm, ví dụ 67,48.",
        )),
    }
}

fn parse_year(s: &str) -> Result<Option<i64>, domain::Invalid> {
    match domain::parse_count(s)? {
        Some(y) if !(1800..=2200).contains(&y) => {
            Err(domain::Invalid("Năm phải có 4 chữ số, ví dụ 1981."))
        }
        other => Ok(other),
    }
}

/// A group's or ward's figures must agree: never fewer residents than households.
pub fn check_unit_figures(
    households: Option<i64>,
    residents: Option<i64>,
) -> Result<(), domain::Invalid> {
    match (households, residents) {
        (Some(h), Some(r)) if r < h => Err(domain::Invalid("Số nhân khẩu không thể ít hơn số hộ.")),
        _ => Ok(()),
    }
}

/// Which field of a site's figures is implausible, and why.
pub fn check_site_figures(
    floors: Option<i64>,
    residents: Option<i64>,
    foreign_residents: Option<i64>,
) -> Result<(), (&'static str, domain::Invalid)> {
    if let (Some(f), Some(r)) = (foreign_residents, residents)
        && f > r
    {
        return Err((
            "foreign_residents",
            domain::Invalid("Số người nước ngoài không thể nhiều hơn số nhân khẩu."),
        ));
    }
    if floors.is_some_and(|f| f > 200) {
        return Err((
            "floors",
            domain::Invalid("Số tầng không hợp lý (tối đa 200)."),
        ));
    }
    Ok(())
}

/// Check a unit form; `parent` is the resolved parent unit.
pub fn parse_unit(form: &UnitForm, parent: Option<&Unit>) -> Result<UnitInput, AppError> {
    let mut c = Checker::default();
    let kind = c.check("kind", UnitKind::parse(&form.kind));
    let code = c.check("code", Code::parse(&form.code));
    let name = c.check("name", Name::parse(&form.name));
    let area_ha = c.check("area_ha", parse_decimal(&form.area_ha)).flatten();
    let founded_year = c
        .check("founded_year", parse_year(&form.founded_year))
        .flatten();
    let households = c
        .check("households", domain::parse_count(&form.households))
        .flatten();
    let residents = c
        .check("residents", domain::parse_count(&form.residents))
        .flatten();
    let position = c
        .check("lat", LatLon::parse_pair(&form.lat, &form.lon))
        .flatten();
    let risk_notes = c.check("risk_notes", domain::free_text(&form.risk_notes));
    let notes = c.check("notes", domain::free_text(&form.notes));
    let staffing = Staffing {
        min_members: c
            .check(
                "staff_min_members",
                domain::parse_count(&form.staff_min_members),
            )
            .flatten(),
        base_residents: c
            .check(
                "staff_base_residents",
                domain::parse_count(&form.staff_base_residents),
            )
            .flatten(),
        step_residents: c
            .check(
                "staff_step_residents",
                domain::parse_count(&form.staff_step_residents),
            )
            .flatten(),
    };
    if staffing.step_residents == Some(0) {
        c.fail(
            "staff_step_residents",
            "Số dân tăng thêm mỗi thành viên phải lớn hơn 0.",
        );
    }
    if let Err(e) = check_unit_figures(households, residents) {
        c.fail("residents", e.0);
    }
    if let Some(kind) = kind {
        let parent_kind = parent.map(Unit::kind);
        let fits = match kind {
            UnitKind::Province => parent.is_none(),
            k if k.is_ward() => {
                parent_kind.is_none_or(|p| matches!(p, UnitKind::Province | UnitKind::District))
            }
            UnitKind::District => parent_kind == Some(UnitKind::Province),
            _ => parent_kind.is_some_and(|p| p.is_ward() || p == UnitKind::Quarter),
        };
        if !fits {
            c.fail(
                "parent",
                "Đơn vị cha không phù hợp: tổ dân phố, thôn, khu phố thuộc một phường/xã; phường/xã thuộc một tỉnh/thành phố.",
            );
        }
    }
    let input = match (kind, code, name, risk_notes, notes) {
        (Some(kind), Some(code), Some(name), Some(risk_notes), Some(notes)) => Some(UnitInput {
            parent_id: parent.map(|p| p.id),
            kind,
            code,
            name,
            area_ha,
            founded_year,
            households,
            residents,
            position,
            risk_notes,
            notes,
            staffing,
        }),
        _ => None,
    };
    c.finish(input)
}

/// A site as a form or JSON body sends it.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct SiteForm {
    #[serde(deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    /// Code of the residential group the site is in (optional).
    #[serde(deserialize_with = "text")]
    pub group: String,
    #[serde(deserialize_with = "text")]
    pub address: String,
    #[serde(deserialize_with = "text")]
    pub lat: String,
    #[serde(deserialize_with = "text")]
    pub lon: String,
    #[serde(deserialize_with = "text")]
    pub floors: String,
    #[serde(deserialize_with = "text")]
    pub apartments: String,
    #[serde(deserialize_with = "text")]
    pub residents: String,
    #[serde(deserialize_with = "text")]
    pub foreign_residents: String,
    #[serde(deserialize_with = "text")]
    pub rooms: String,
    #[serde(deserialize_with = "text")]
    pub lodgers: String,
    #[serde(deserialize_with = "text")]
    pub visitors: String,
    #[serde(deserialize_with = "text")]
    pub length_m: String,
    #[serde(deserialize_with = "text")]
    pub schedule: String,
    #[serde(deserialize_with = "text")]
    pub in_use_since: String,
    #[serde(deserialize_with = "text")]
    pub risk_notes: String,
    #[serde(deserialize_with = "text")]
    pub notes: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

impl SiteForm {
    pub fn from_site(s: &Site, group_code: String) -> Self {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            kind: s.kind.clone(),
            name: s.name.clone(),
            group: group_code,
            address: s.address.clone(),
            lat: f(s.lat),
            lon: f(s.lon),
            floors: n(s.floors),
            apartments: n(s.apartments),
            residents: n(s.residents),
            foreign_residents: n(s.foreign_residents),
            rooms: n(s.rooms),
            lodgers: n(s.lodgers),
            visitors: n(s.visitors),
            length_m: n(s.length_m),
            schedule: s.schedule.clone(),
            in_use_since: n(s.in_use_since),
            risk_notes: s.risk_notes.clone(),
            notes: s.notes.clone(),
            csrf: String::new(),
        }
    }
}

/// Check a site form against the ward's residential groups.
pub fn parse_site(form: &SiteForm, ward: &Unit, groups: &[Unit]) -> Result<SiteInput, AppError> {
    let mut c = Checker::default();
    let kind = c.check("kind", SiteKind::parse(&form.kind));
    let name = c.check("name", Name::parse(&form.name));
    let group_id = if form.group.trim().is_empty() {
        None
    } else {
        let wanted = form.group.trim().to_lowercase();
        let found = groups
            .iter()
            .find(|g| g.code == wanted || crate::text::fold(&g.name) == crate::text::fold(&wanted));
        if found.is_none() {
            c.fail("group", "Không có tổ dân phố này trong phường.");
        }
        found.map(|g| g.id)
    };
    let count =
        |c: &mut Checker, field: &str, v: &str| c.check(field, domain::parse_count(v)).flatten();
    let floors = count(&mut c, "floors", &form.floors);
    let apartments = count(&mut c, "apartments", &form.apartments);
    let residents = count(&mut c, "residents", &form.residents);
    let foreign_residents = count(&mut c, "foreign_residents", &form.foreign_residents);
    let rooms = count(&mut c, "rooms", &form.rooms);
    let lodgers = count(&mut c, "lodgers", &form.lodgers);
    let visitors = count(&mut c, "visitors", &form.visitors);
    let length_m = count(&mut c, "length_m", &form.length_m);
    let in_use_since = c
        .check("in_use_since", parse_year(&form.in_use_since))
        .flatten();
    if let Err((field, e)) = check_site_figures(floors, residents, foreign_residents) {
        c.fail(field, e.0);
    }
    let position = c
        .check("lat", LatLon::parse_pair(&form.lat, &form.lon))
        .flatten();
    let address = c.check("address", domain::free_text(&form.address));
    let schedule = c.check("schedule", domain::free_text(&form.schedule));
    let risk_notes = c.check("risk_notes", domain::free_text(&form.risk_notes));
    let notes = c.check("notes", domain::free_text(&form.notes));
    let input = match (kind, name, address, schedule, risk_notes, notes) {
        (Some(kind), Some(name), Some(address), Some(schedule), Some(risk_notes), Some(notes)) => {
            Some(SiteInput {
                ward_id: ward.id,
                group_id,
                parent_site_id: None,
                kind,
                name,
                address,
                position,
                floors,
                apartments,
                residents,
                foreign_residents,
                rooms,
                lodgers,
                visitors,
                length_m,
                schedule,
                in_use_since,
                risk_notes,
                notes,
            })
        }
        _ => None,
    };
    c.finish(input)
}

/// The ward a code names, or 404.
pub async fn ward_by_code(store: &dyn Store, code: &str) -> Result<Unit, AppError> {
    store
        .unit_by_code(&code.to_lowercase())
        .await?
        .filter(|u| u.kind().is_ward())
        .ok_or(AppError::NotFound)
}

/// The ward's residential groups (and villages), not archived.
pub async fn groups_of(store: &dyn Store, ward_id: i64) -> Result<Vec<Unit>, AppError> {
    Ok(store
        .units_of_ward(ward_id)
        .await?
        .into_iter()
        .filter(|u| u.kind().is_grassroots() && u.archived_at.is_none())
        .collect())
}

pub fn require_edit(caller: &Caller, ward_id: i64) -> Result<(), AppError> {
    caller.require()?;
    if policy::can_edit_registry(caller.user(), ward_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The staffing rule in force for a ward: its own, else the nearest ancestor's.
pub async fn staffing_rule(store: &dyn Store, ward: &Unit) -> Result<Option<Staffing>, AppError> {
    let mut current = Some(ward.clone());
    let mut guard = 0;
    while let Some(u) = current {
        if u.staff_min_members.is_some() {
            return Ok(Some(Staffing {
                min_members: u.staff_min_members,
                base_residents: u.staff_base_residents,
                step_residents: u.staff_step_residents,
            }));
        }
        guard += 1;
        current = match u.parent_id {
            Some(p) if guard < 16 => store.unit(p).await?,
            _ => None,
        };
    }
    Ok(None)
}

/// Members a team needs for the residents it covers under a rule.
pub fn required_members(rule: &Staffing, residents: i64) -> i64 {
    let min = rule.min_members.unwrap_or(0);
    match (rule.base_residents, rule.step_residents) {
        (Some(base), Some(step)) if step > 0 && residents > base => {
            min + (residents - base + step - 1) / step
        }
        _ => min,
    }
}

/// Strip what only the ward's own people may read.
pub fn public_unit(mut u: Unit, internal: bool) -> Unit {
    if !internal {
        u.risk_notes.clear();
    }
    u
}

pub fn public_site(mut s: Site, internal: bool) -> Site {
    if !internal {
        s.risk_notes.clear();
    }
    s
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Cần một số thập phân không âm, ví dụ 67,48.",
        "A decimal number, zero or more, is needed, e.g. 67.48.",
    ),
    (
        "Năm phải có 4 chữ số, ví dụ 1981.",
        "A year has 4 digits, e.g. 1981.",
    ),
    (
        "Số dân tăng thêm mỗi thành viên phải lớn hơn 0.",
        "Residents per extra member must be more than 0.",
    ),
    (
        "Số nhân khẩu không thể ít hơn số hộ.",
        "Residents cannot be fewer than households.",
    ),
    (
        "Đơn vị cha không phù hợp: tổ dân phố, thôn, khu phố thuộc một phường/xã; phường/xã thuộc một tỉnh/thành phố.",
        "Wrong parent unit: residential groups, villages and quarters belong to a ward or commune; wards and communes to a province.",
    ),
    (
        "Không có tổ dân phố này trong phường.",
        "The ward has no such residential group.",
    ),
    (
        "Số người nước ngoài không thể nhiều hơn số nhân khẩu.",
        "Foreign residents cannot outnumber residents.",
    ),
    (
        "Số tầng không hợp lý (tối đa 200).",
        "Implausible number of floors (at most 200).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staffing_rule_of_domain() {
        let rule = Staffing {
            min_members: Some(3),
            base_residents: Some(2700),
            step_residents: Some(900),
        };
        assert_eq!(required_members(&rule, 1300), 3);
        assert_eq!(required_members(&rule, 2700), 3);
        assert_eq!(required_members(&rule, 2701), 4);
        assert_eq!(required_members(&rule, 3600), 4);
        assert_eq!(required_members(&rule, 3601), 5);
    }

    #[test]
    fn site_form_reports_every_bad_field() {
        let ward = Unit {
            id: 1,
            parent_id: None,
            ward_id: Some(1),
            kind: "ward".into(),
            code: "x".into(),
            name: "X".into(),
            name_folded: "x".into(),
            area_ha: None,
            founded_year: None,
            households: None,
            residents: None,
            lat: None,
            lon: None,
            risk_notes: String::new(),
            notes: String::new(),
            staff_min_members: None,
            staff_base_residents: None,
            staff_step_residents: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            archived_at: None,
        };
        let form = SiteForm {
            kind: "chợ".into(),
            name: "".into(),
            lat: "91".into(),
            lon: "106".into(),
            residents: "abc".into(),
            group: "tdp-99".into(),
            ..Default::default()
        };
        let Err(AppError::Validation(errs)) = parse_site(&form, &ward, &[]) else {
            panic!("must fail")
        };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "group", "residents", "lat"]);
        let ok = SiteForm {
            kind: "Chợ".into(),
            name: "Chợ Hàng".into(),
            visitors: "30.000".into(),
            ..Default::default()
        };
        let input = parse_site(&ok, &ward, &[]).unwrap();
        assert_eq!(input.kind, SiteKind::Market);
        assert_eq!(input.visitors, Some(30000));
    }
}
