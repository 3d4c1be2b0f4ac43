//! The forces rules shared by pages and API: what of a person a caller sees, team rows
//! with their strength against the province's rule, and reading forms into inputs.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::policy::{self, PeopleAccess};
use crate::domain::{self, CitizenId, ForceKind, Name, PersonKind, Phone, TeamRole};
use crate::http::error::AppError;
use crate::http::form::{Checker, text};
use crate::store::Store;
use crate::store::accounts::User;
use crate::store::forces::{
    ForceInput, PartnerForce, PeopleFilter, Person, PersonInput, Team, TeamGroup, TeamInput,
};
use crate::store::territory::{Staffing, Unit};
use crate::territory::service::required_members;

/// Residential groups by id: (code, name).
pub type GroupNames = HashMap<i64, (String, String)>;

pub fn names_of(groups: &[Unit]) -> GroupNames {
    groups
        .iter()
        .map(|g| (g.id, (g.code.clone(), g.name.clone())))
        .collect()
}

/// A person as the caller may see them; hidden fields are `None`. The fields a write
/// takes (`group` code, `team_id`, `force_id`, …) have the names `PersonForm` accepts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub full_name: String,
    pub kind: String,
    pub team_id: Option<i64>,
    pub team_role: Option<String>,
    pub force_id: Option<i64>,
    pub rank_title: String,
    /// Code of the residential group the person lives in (as a write takes it).
    pub group: Option<String>,
    pub group_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub training: Option<String>,
    pub equipment: Option<String>,
    pub joined_on: Option<NaiveDate>,
    pub citizen_id: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub notes: Option<String>,
    pub archived: bool,
    /// What the caller may see of this person: public, contact or full.
    pub access: &'static str,
    pub can_edit: bool,
}

impl PersonView {
    pub fn new(p: &Person, user: Option<&User>, tg: &[TeamGroup], groups: &GroupNames) -> Self {
        let access = policy::people_access(user, p, tg);
        let contact = access >= PeopleAccess::Contact;
        let full = access >= PeopleAccess::Full;
        let keep = |show: bool, s: &str| (show && !s.is_empty()).then(|| s.to_string());
        PersonView {
            id: p.id,
            full_name: p.full_name.clone(),
            kind: p.kind.clone(),
            team_id: p.team_id,
            team_role: p.team_role.clone(),
            force_id: p.force_id,
            rank_title: p.rank_title.clone(),
            group: p
                .group_id
                .and_then(|g| groups.get(&g))
                .map(|(code, _)| code.clone()),
            group_name: p
                .group_id
                .and_then(|g| groups.get(&g))
                .map(|(_, name)| name.clone()),
            phone: keep(contact, &p.phone),
            address: keep(contact, &p.address),
            training: keep(contact, &p.training),
            equipment: keep(contact, &p.equipment),
            joined_on: p.joined_on,
            citizen_id: if full { p.citizen_id.clone() } else { None },
            birth_date: if full { p.birth_date } else { None },
            notes: keep(contact, &p.notes),
            archived: p.archived_at.is_some(),
            access: match access {
                PeopleAccess::Public => "public",
                PeopleAccess::Contact => "contact",
                PeopleAccess::Full => "full",
            },
            can_edit: policy::can_edit_person(user, p, tg),
        }
    }

    pub fn role_label(&self) -> &'static str {
        self.team_role
            .as_deref()
            .and_then(|r| TeamRole::parse(r).ok())
            .map(TeamRole::label)
            .unwrap_or("")
    }
}

/// A team with the groups it covers, its members and its strength.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub decision_no: String,
    pub decision_date: Option<NaiveDate>,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
    pub groups: Vec<String>,
    pub group_codes: Vec<String>,
    pub residents: i64,
    pub members: Vec<PersonView>,
    /// Members the province's rule asks for, when a rule is set.
    pub required: Option<i64>,
    pub understaffed: bool,
    pub has_leader: bool,
    pub archived: bool,
}

/// Everything of a ward's forces, as one caller may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForcesView {
    pub teams: Vec<TeamRow>,
    pub members_total: usize,
    pub partner_forces: Vec<ForceRow>,
    /// Ward police: for the ward's own people only.
    pub officers: Vec<PersonView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForceRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub founded_on: Option<NaiveDate>,
    pub notes: String,
    pub volunteers: Vec<PersonView>,
}

pub async fn forces_view(
    store: &dyn Store,
    user: Option<&User>,
    ward: &Unit,
    groups: &[Unit],
    rule: Option<Staffing>,
    internal: bool,
) -> Result<ForcesView, AppError> {
    let tg = store.team_groups(ward.id).await?;
    let group_names = names_of(groups);
    let people = store.people(ward.id, &PeopleFilter::default()).await?;
    let view = |p: &Person| PersonView::new(p, user, &tg, &group_names);
    let mut teams = Vec::new();
    for t in store.teams(ward.id, false).await? {
        let covered: Vec<&Unit> = tg
            .iter()
            .filter(|x| x.team_id == t.id)
            .filter_map(|x| groups.iter().find(|g| g.id == x.group_id))
            .collect();
        let residents = covered.iter().filter_map(|g| g.residents).sum();
        let members: Vec<PersonView> = people
            .iter()
            .filter(|p| p.team_id == Some(t.id))
            .map(view)
            .collect();
        let required = rule.as_ref().map(|r| required_members(r, residents));
        teams.push(TeamRow {
            id: t.id,
            understaffed: required.is_some_and(|r| (members.len() as i64) < r),
            has_leader: members
                .iter()
                .any(|m| m.team_role.as_deref() == Some("leader")),
            name: t.name,
            decision_no: t.decision_no,
            decision_date: t.decision_date,
            founded_on: t.founded_on,
            notes: t.notes,
            groups: covered.iter().map(|g| g.name.clone()).collect(),
            group_codes: covered.iter().map(|g| g.code.clone()).collect(),
            residents,
            members,
            required,
            archived: t.archived_at.is_some(),
        });
    }
    let members_total = teams.iter().map(|t| t.members.len()).sum();
    let partner_forces = store
        .forces(ward.id)
        .await?
        .into_iter()
        .map(|f| ForceRow {
            volunteers: people
                .iter()
                .filter(|p| p.force_id == Some(f.id))
                .map(view)
                .collect(),
            id: f.id,
            kind: f.kind,
            name: f.name,
            founded_on: f.founded_on,
            notes: f.notes,
        })
        .collect();
    let officers = if internal {
        people
            .iter()
            .filter(|p| p.kind() == PersonKind::Officer)
            .map(view)
            .collect()
    } else {
        Vec::new()
    };
    Ok(ForcesView {
        teams,
        members_total,
        partner_forces,
        officers,
    })
}

/// A team as a form or JSON body sends it.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct TeamForm {
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub decision_no: String,
    /// dd/mm/yyyy
    #[serde(deserialize_with = "text")]
    pub decision_date: String,
    /// dd/mm/yyyy
    #[serde(deserialize_with = "text")]
    pub founded_on: String,
    /// Codes of the residential groups covered, separated by commas or spaces.
    #[serde(deserialize_with = "text")]
    pub groups: String,
    #[serde(deserialize_with = "text")]
    pub notes: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

pub fn parse_team(form: &TeamForm, ward: &Unit, groups: &[Unit]) -> Result<TeamInput, AppError> {
    let mut c = Checker::default();
    let name = c.check("name", Name::parse(&form.name));
    let decision_no = c.check("decision_no", domain::free_text(&form.decision_no));
    let decision_date = c
        .check("decision_date", domain::parse_date(&form.decision_date))
        .flatten();
    let founded_on = c
        .check("founded_on", domain::parse_date(&form.founded_on))
        .flatten();
    let notes = c.check("notes", domain::free_text(&form.notes));
    let mut group_ids = Vec::new();
    for code in form
        .groups
        .split(|ch: char| ch == ',' || ch.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        match groups.iter().find(|g| g.code == code.to_lowercase()) {
            Some(g) if !group_ids.contains(&g.id) => group_ids.push(g.id),
            Some(_) => {}
            None => c.fail("groups", "Không có tổ dân phố này trong phường."),
        }
    }
    if group_ids.is_empty() && !c.errors.iter().any(|e| e.field == "groups") {
        c.fail("groups", "Tổ bảo vệ phải phụ trách ít nhất một tổ dân phố.");
    }
    if let (Some(d), Some(f)) = (decision_date, founded_on)
        && f < d
    {
        c.fail(
            "founded_on",
            "Ngày ra mắt không thể trước ngày quyết định thành lập.",
        );
    }
    let input = match (name, decision_no, notes) {
        (Some(name), Some(decision_no), Some(notes)) => Some(TeamInput {
            ward_id: ward.id,
            name,
            decision_no,
            decision_date,
            founded_on,
            notes,
            group_ids,
        }),
        _ => None,
    };
    c.finish(input)
}

/// A person as a form or JSON body sends it.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PersonForm {
    /// team_member, volunteer or officer
    #[serde(deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub full_name: String,
    /// Team id (for team members)
    #[serde(deserialize_with = "text", alias = "team_id")]
    pub team: String,
    /// leader, deputy or member
    #[serde(deserialize_with = "text")]
    pub team_role: String,
    /// Partner force id (for volunteers)
    #[serde(deserialize_with = "text", alias = "force_id")]
    pub force: String,
    #[serde(deserialize_with = "text")]
    pub phone: String,
    /// dd/mm/yyyy
    #[serde(deserialize_with = "text")]
    pub birth_date: String,
    #[serde(deserialize_with = "text")]
    pub citizen_id: String,
    #[serde(deserialize_with = "text")]
    pub address: String,
    /// Code of the residential group the person lives in
    #[serde(deserialize_with = "text")]
    pub group: String,
    #[serde(deserialize_with = "text")]
    pub rank_title: String,
    #[serde(deserialize_with = "text")]
    pub training: String,
    #[serde(deserialize_with = "text")]
    pub equipment: String,
    /// dd/mm/yyyy
    #[serde(deserialize_with = "text")]
    pub joined_on: String,
    #[serde(deserialize_with = "text")]
    pub notes: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

impl PersonForm {
    pub fn from_person(p: &Person, group_code: String) -> Self {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            kind: p.kind.clone(),
            full_name: p.full_name.clone(),
            team: id(p.team_id),
            team_role: p.team_role.clone().unwrap_or_default(),
            force: id(p.force_id),
            phone: p.phone.clone(),
            birth_date: domain::format_date(p.birth_date),
            citizen_id: p.citizen_id.clone().unwrap_or_default(),
            address: p.address.clone(),
            group: group_code,
            rank_title: p.rank_title.clone(),
            training: p.training.clone(),
            equipment: p.equipment.clone(),
            joined_on: domain::format_date(p.joined_on),
            notes: p.notes.clone(),
            csrf: String::new(),
        }
    }
}

/// Age limits of the law for the grassroots force (18–70).
pub const MIN_AGE: i32 = 18;
pub const MAX_AGE: i32 = 70;

pub fn parse_person(
    form: &PersonForm,
    ward: &Unit,
    groups: &[Unit],
    teams: &[Team],
    forces: &[PartnerForce],
    today: NaiveDate,
) -> Result<PersonInput, AppError> {
    let mut c = Checker::default();
    let kind = if form.kind.trim().is_empty() {
        Some(PersonKind::TeamMember)
    } else {
        c.check("kind", PersonKind::parse(&form.kind))
    };
    let full_name = c.check("full_name", Name::parse(&form.full_name));
    let phone = if form.phone.trim().is_empty() {
        None
    } else {
        c.check("phone", Phone::parse(&form.phone))
    };
    let citizen_id = if form.citizen_id.trim().is_empty() {
        None
    } else {
        c.check("citizen_id", CitizenId::parse(&form.citizen_id))
    };
    let birth_date = c
        .check("birth_date", domain::parse_date(&form.birth_date))
        .flatten();
    let joined_on = c
        .check("joined_on", domain::parse_date(&form.joined_on))
        .flatten();
    if let Some(b) = birth_date {
        let age = today.years_since(b).map(|y| y as i32).unwrap_or(-1);
        if age < 0 {
            c.fail("birth_date", "Ngày sinh không thể ở tương lai.");
        } else if kind == Some(PersonKind::TeamMember) && age < MIN_AGE {
            c.fail("birth_date", "Thành viên tổ bảo vệ ANTT phải đủ 18 tuổi.");
        } else if kind == Some(PersonKind::TeamMember)
            && age > MAX_AGE
            && form.notes.trim().is_empty()
        {
            // The law allows older members who are healthy, with approval: record it.
            c.fail(
                "birth_date",
                "Thành viên trên 70 tuổi cần ghi rõ quyết định chấp thuận trong phần ghi chú.",
            );
        }
    }
    let parse_id = |s: &str| s.trim().parse::<i64>().ok();
    let mut team_id = None;
    let mut team_role = None;
    let mut force_id = None;
    match kind {
        Some(PersonKind::TeamMember) => {
            team_id = parse_id(&form.team).filter(|id| teams.iter().any(|t| t.id == *id));
            if team_id.is_none() {
                c.fail(
                    "team",
                    "Chọn tổ bảo vệ ANTT của phường mà người này tham gia.",
                );
            }
            team_role = if form.team_role.trim().is_empty() {
                Some(TeamRole::Member)
            } else {
                c.check("team_role", TeamRole::parse(&form.team_role))
            };
        }
        Some(PersonKind::Volunteer) => {
            force_id = parse_id(&form.force).filter(|id| forces.iter().any(|f| f.id == *id));
            if force_id.is_none() {
                c.fail("force", "Chọn lực lượng phối hợp mà người này tham gia.");
            }
        }
        _ => {}
    }
    let group_id = if form.group.trim().is_empty() {
        None
    } else {
        let found = groups
            .iter()
            .find(|g| g.code == form.group.trim().to_lowercase());
        if found.is_none() {
            c.fail("group", "Không có tổ dân phố này trong phường.");
        }
        found.map(|g| g.id)
    };
    let address = c.check("address", domain::free_text(&form.address));
    let rank_title = c.check("rank_title", domain::free_text(&form.rank_title));
    let training = c.check("training", domain::free_text(&form.training));
    let equipment = c.check("equipment", domain::free_text(&form.equipment));
    let notes = c.check("notes", domain::free_text(&form.notes));
    let input = match (
        kind, full_name, address, rank_title, training, equipment, notes,
    ) {
        (
            Some(kind),
            Some(full_name),
            Some(address),
            Some(rank_title),
            Some(training),
            Some(equipment),
            Some(notes),
        ) => Some(PersonInput {
            ward_id: ward.id,
            kind,
            team_id,
            team_role,
            force_id,
            full_name,
            phone,
            birth_date,
            citizen_id,
            address,
            group_id,
            rank_title,
            training,
            equipment,
            joined_on,
            notes,
        }),
        _ => None,
    };
    c.finish(input)
}

/// A partner force as a form or JSON body sends it.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ForceForm {
    /// veterans, militia, youth_union, women or other
    #[serde(deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub founded_on: String,
    #[serde(deserialize_with = "text")]
    pub notes: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

pub fn parse_force(form: &ForceForm, ward: &Unit) -> Result<ForceInput, AppError> {
    let mut c = Checker::default();
    let kind = c.check("kind", ForceKind::parse(&form.kind));
    let name = c.check("name", Name::parse(&form.name));
    let founded_on = c
        .check("founded_on", domain::parse_date(&form.founded_on))
        .flatten();
    let notes = c.check("notes", domain::free_text(&form.notes));
    let input = match (kind, name, notes) {
        (Some(kind), Some(name), Some(notes)) => Some(ForceInput {
            ward_id: ward.id,
            kind,
            name,
            founded_on,
            notes,
        }),
        _ => None,
    };
    c.finish(input)
}

pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive()
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Tổ bảo vệ phải phụ trách ít nhất một tổ dân phố.",
        "A team must cover at least one residential group.",
    ),
    (
        "Ngày ra mắt không thể trước ngày quyết định thành lập.",
        "The launch cannot be before the founding decision.",
    ),
    (
        "Ngày sinh không thể ở tương lai.",
        "The date of birth cannot be in the future.",
    ),
    (
        "Thành viên tổ bảo vệ ANTT phải đủ 18 tuổi.",
        "Security team members must be at least 18.",
    ),
    (
        "Thành viên trên 70 tuổi cần ghi rõ quyết định chấp thuận trong phần ghi chú.",
        "Members over 70 need the approval recorded in the notes.",
    ),
    (
        "Chọn tổ bảo vệ ANTT của phường mà người này tham gia.",
        "Choose the ward's security team this person serves in.",
    ),
    (
        "Chọn lực lượng phối hợp mà người này tham gia.",
        "Choose the partner force this person serves in.",
    ),
];
