//! Demo data: the two wards of the source documents (Lạch Tray, 19/08/2024 and Dư Hàng
//! Kênh, 19/10/2023), with their residential groups, sites, security teams, partner
//! force, ward police and one account per role.
//!
//! Every fact of the articles is kept; what they do not say (group sizes, people,
//! positions, decision numbers) is generated from a seeded RNG, so every run writes the
//! same data. Loading is idempotent: a ward whose code exists is skipped entirely, an
//! account whose username exists is left alone.

mod duty;
mod names;

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::domain::{
    CitizenId, Code, ForceKind, LatLon, Name, PersonKind, Phone, Role, SiteKind, TeamRole, UnitKind,
};
use crate::store::accounts::NewUser;
use crate::store::forces::{ForceInput, PeopleFilter, Person, PersonInput, TeamInput};
use crate::store::territory::{SiteInput, Staffing, UnitInput};
use crate::store::{Actor, Store, Write};

/// One demo account, with its password in clear so it can be shown to whoever loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub ward_code: Option<String>,
    /// Vietnamese description of the account (a key of [`TEXTS`]).
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// Codes of the wards created by this run (empty when everything existed).
    pub wards_created: Vec<String>,
    /// Every demo account, whether created now or by an earlier run.
    pub accounts: Vec<DemoAccount>,
}

/// The one password of every demo account.
const PASSWORD: &str = "demo-wardwatch";

const PROVINCE: &str = "hai-phong";
const LACH_TRAY: &str = "lach-tray";
const DU_HANG_KENH: &str = "du-hang-kenh";

const TRAINING: &str = "Tập huấn nghiệp vụ bảo vệ ANTT 2024";
const EQUIPMENT: &str = "Áo phản quang, đèn pin, gậy cao su";
const VETERAN_TRAINING: &str = "Tập huấn hướng dẫn, phân luồng giao thông 2023";
const VETERAN_EQUIPMENT: &str = "Áo phản quang, băng đeo tay, cờ hiệu, còi";

/// Loads the two wards of the source documents. Running it twice changes nothing.
pub async fn load(store: &dyn Store) -> Result<DemoSummary> {
    let actor = Actor::default();
    let mut summary = DemoSummary::default();

    let province_id = match store.unit_by_code(PROVINCE).await? {
        Some(unit) => unit.id,
        None => {
            store
                .create_unit(actor, province()?)
                .await
                .context("creating the province")?
                .id
        }
    };

    for (code, plan) in [
        (LACH_TRAY, plan_lach_tray as fn() -> Result<WardPlan>),
        (DU_HANG_KENH, plan_du_hang_kenh),
    ] {
        if store.unit_by_code(code).await?.is_some() {
            tracing::info!(ward = code, "demo ward exists; skipped");
            continue;
        }
        // The whole plan is built and checked before the first write.
        let plan = plan()?;
        write_ward(store, province_id, plan)
            .await
            .with_context(|| format!("loading the demo ward {code}"))?;
        tracing::info!(ward = code, "demo ward loaded");
        summary.wards_created.push(code.to_string());
    }

    summary.accounts = ensure_accounts(store).await?;
    duty::load(store).await?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------
// Writing a planned ward

/// A ward ready to write; references between its records are indices into its lists.
struct WardPlan {
    ward: UnitInput,
    groups: Vec<UnitInput>,
    /// Sites with the index of the group they lie in.
    sites: Vec<(Option<usize>, SiteInput)>,
    /// Teams with the indices of the groups they cover.
    teams: Vec<(Vec<usize>, TeamInput)>,
    force: Option<ForceInput>,
    people: Vec<PlannedPerson>,
}

struct PlannedPerson {
    team: Option<usize>,
    group: Option<usize>,
    in_force: bool,
    input: PersonInput,
}

async fn apply(store: &dyn Store, what: &str, writes: &[Write]) -> Result<()> {
    store.apply(Actor::default(), writes).await.map_err(|e| {
        anyhow!(
            "{what}: write {} of {} failed: {}",
            e.index + 1,
            writes.len(),
            e.error
        )
    })?;
    Ok(())
}

/// Ward, then its groups, then sites + teams + force, then people: four transactions,
/// each step needing the ids the one before created.
async fn write_ward(store: &dyn Store, province_id: i64, mut plan: WardPlan) -> Result<()> {
    plan.ward.parent_id = Some(province_id);
    let ward = store.create_unit(Actor::default(), plan.ward).await?;

    let groups: Vec<Write> = plan
        .groups
        .iter()
        .map(|g| {
            Write::Unit(
                None,
                UnitInput {
                    parent_id: Some(ward.id),
                    ..g.clone()
                },
            )
        })
        .collect();
    apply(store, "groups", &groups).await?;
    let by_code: HashMap<String, i64> = store
        .units_of_ward(ward.id)
        .await?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let group_ids = plan
        .groups
        .iter()
        .map(|g| {
            by_code
                .get(g.code.as_str())
                .copied()
                .ok_or_else(|| anyhow!("group {} missing", g.code))
        })
        .collect::<Result<Vec<i64>>>()?;

    let mut writes = Vec::new();
    for (group, mut site) in plan.sites {
        site.ward_id = ward.id;
        site.group_id = group.map(|i| group_ids[i]);
        writes.push(Write::Site(None, site));
    }
    let team_names: Vec<String> = plan
        .teams
        .iter()
        .map(|(_, t)| t.name.as_str().to_string())
        .collect();
    for (groups, mut team) in plan.teams {
        team.ward_id = ward.id;
        team.group_ids = groups.iter().map(|&i| group_ids[i]).collect();
        writes.push(Write::Team(None, team));
    }
    let force_name = plan.force.as_ref().map(|f| f.name.as_str().to_string());
    if let Some(mut force) = plan.force {
        force.ward_id = ward.id;
        writes.push(Write::Force(None, force));
    }
    apply(store, "sites, teams and forces", &writes).await?;

    let teams: HashMap<String, i64> = store
        .teams(ward.id, true)
        .await?
        .into_iter()
        .map(|t| (t.name, t.id))
        .collect();
    let team_ids = team_names
        .iter()
        .map(|n| {
            teams
                .get(n)
                .copied()
                .ok_or_else(|| anyhow!("team {n} missing"))
        })
        .collect::<Result<Vec<i64>>>()?;
    let force_id = match &force_name {
        Some(name) => Some(
            store
                .forces(ward.id)
                .await?
                .into_iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| anyhow!("force {name} missing"))?
                .id,
        ),
        None => None,
    };

    let people: Vec<Write> = plan
        .people
        .into_iter()
        .map(|p| {
            let mut input = p.input;
            input.ward_id = ward.id;
            input.team_id = p.team.map(|i| team_ids[i]);
            input.group_id = p.group.map(|i| group_ids[i]);
            input.force_id = if p.in_force { force_id } else { None };
            Write::Person(None, input)
        })
        .collect();
    apply(store, "people", &people).await
}

// ---------------------------------------------------------------------------------------
// Accounts

/// Who a demo account is linked to, found in the ward once it is loaded.
#[derive(Clone, Copy)]
enum Link {
    Nobody,
    /// A ward police officer (the community police officer when there is one).
    Officer,
    /// A residential group only.
    Group(u32),
    /// A role in the security team of a residential group.
    Team(u32, TeamRole),
    /// A volunteer of the veterans' association.
    Veteran,
}

struct AccountSpec {
    username: &'static str,
    role: Role,
    ward: Option<&'static str>,
    note: &'static str,
    link: Link,
}

const ACCOUNTS: &[AccountSpec] = &[
    AccountSpec {
        username: "admin",
        role: Role::Admin,
        ward: None,
        note: NOTE_ADMIN,
        link: Link::Nobody,
    },
    AccountSpec {
        username: "lt.congan",
        role: Role::Officer,
        ward: Some(LACH_TRAY),
        note: NOTE_LT_OFFICER,
        link: Link::Officer,
    },
    AccountSpec {
        username: "lt.lanhdao",
        role: Role::Leadership,
        ward: Some(LACH_TRAY),
        note: NOTE_LT_LEADERSHIP,
        link: Link::Nobody,
    },
    AccountSpec {
        username: "lt.totruong1",
        role: Role::TeamLeader,
        ward: Some(LACH_TRAY),
        note: NOTE_LT_LEADER,
        link: Link::Team(1, TeamRole::Leader),
    },
    AccountSpec {
        username: "lt.tovien1",
        role: Role::TeamMember,
        ward: Some(LACH_TRAY),
        note: NOTE_LT_MEMBER,
        link: Link::Team(1, TeamRole::Member),
    },
    AccountSpec {
        username: "lt.dan",
        role: Role::Resident,
        ward: Some(LACH_TRAY),
        note: NOTE_LT_RESIDENT,
        link: Link::Group(2),
    },
    AccountSpec {
        username: "dhk.congan",
        role: Role::Officer,
        ward: Some(DU_HANG_KENH),
        note: NOTE_DHK_OFFICER,
        link: Link::Officer,
    },
    AccountSpec {
        username: "dhk.lanhdao",
        role: Role::Leadership,
        ward: Some(DU_HANG_KENH),
        note: NOTE_DHK_LEADERSHIP,
        link: Link::Nobody,
    },
    AccountSpec {
        username: "dhk.totruong1",
        role: Role::TeamLeader,
        ward: Some(DU_HANG_KENH),
        note: NOTE_DHK_LEADER,
        link: Link::Team(1, TeamRole::Leader),
    },
    AccountSpec {
        username: "dhk.cuuchienbinh",
        role: Role::Volunteer,
        ward: Some(DU_HANG_KENH),
        note: NOTE_DHK_VETERAN,
        link: Link::Veteran,
    },
    AccountSpec {
        username: "dhk.dan",
        role: Role::Resident,
        ward: Some(DU_HANG_KENH),
        note: NOTE_DHK_RESIDENT,
        link: Link::Group(2),
    },
];

const NOTE_ADMIN: &str = "Quản trị hệ thống (tài khoản mẫu)";
const NOTE_LT_OFFICER: &str = "Cán bộ Công an phường Lạch Tray (Cảnh sát khu vực)";
const NOTE_LT_LEADERSHIP: &str = "Lãnh đạo UBND phường Lạch Tray";
const NOTE_LT_LEADER: &str = "Tổ trưởng tổ bảo vệ ANTT TDP số 1, phường Lạch Tray";
const NOTE_LT_MEMBER: &str = "Tổ viên tổ bảo vệ ANTT TDP số 1, phường Lạch Tray";
const NOTE_LT_RESIDENT: &str = "Người dân tổ dân phố số 2, phường Lạch Tray";
const NOTE_DHK_OFFICER: &str = "Cán bộ Công an phường Dư Hàng Kênh (Cảnh sát khu vực)";
const NOTE_DHK_LEADERSHIP: &str = "Lãnh đạo UBND phường Dư Hàng Kênh";
const NOTE_DHK_LEADER: &str = "Tổ trưởng tổ bảo vệ ANTT TDP số 1, phường Dư Hàng Kênh";
const NOTE_DHK_VETERAN: &str = "Hội viên Hội Cựu chiến binh phường Dư Hàng Kênh, mô hình đảm bảo an toàn giao thông phiên chợ Hàng và cổng trường";
const NOTE_DHK_RESIDENT: &str = "Người dân tổ dân phố số 2, phường Dư Hàng Kênh";

/// (Vietnamese, English) for the notes and display names of the demo accounts.
pub const TEXTS: crate::i18n::Texts = &[
    (NOTE_ADMIN, "System administrator (demo account)"),
    (
        NOTE_LT_OFFICER,
        "Lạch Tray ward police officer (community police)",
    ),
    (
        NOTE_LT_LEADERSHIP,
        "Lạch Tray ward People's Committee leadership",
    ),
    (
        NOTE_LT_LEADER,
        "Leader of the security team of residential group no. 1, Lạch Tray ward",
    ),
    (
        NOTE_LT_MEMBER,
        "Member of the security team of residential group no. 1, Lạch Tray ward",
    ),
    (
        NOTE_LT_RESIDENT,
        "Resident of residential group no. 2, Lạch Tray ward",
    ),
    (
        NOTE_DHK_OFFICER,
        "Dư Hàng Kênh ward police officer (community police)",
    ),
    (
        NOTE_DHK_LEADERSHIP,
        "Dư Hàng Kênh ward People's Committee leadership",
    ),
    (
        NOTE_DHK_LEADER,
        "Leader of the security team of residential group no. 1, Dư Hàng Kênh ward",
    ),
    (
        NOTE_DHK_VETERAN,
        "Member of the Dư Hàng Kênh ward veterans' association, traffic safety model for the Hàng market session and school gates",
    ),
    (
        NOTE_DHK_RESIDENT,
        "Resident of residential group no. 2, Dư Hàng Kênh ward",
    ),
];

/// Creates the accounts that do not exist yet and lists them all.
async fn ensure_accounts(store: &dyn Store) -> Result<Vec<DemoAccount>> {
    let mut listed = Vec::new();
    // Hashing is slow: once, and only when some account is missing.
    let mut hash: Option<String> = None;
    for spec in ACCOUNTS {
        let account = DemoAccount {
            username: spec.username.to_string(),
            password: PASSWORD.to_string(),
            role: spec.role,
            ward_code: spec.ward.map(str::to_string),
            note: spec.note.to_string(),
        };
        if store.user_by_username(spec.username).await?.is_some() {
            listed.push(account);
            continue;
        }
        let ward_id = match spec.ward {
            Some(code) => match store.unit_by_code(code).await? {
                Some(ward) => Some(ward.id),
                None => {
                    tracing::warn!(
                        ward = code,
                        user = spec.username,
                        "ward missing; account not created"
                    );
                    continue;
                }
            },
            None => None,
        };
        let (group_id, person) = match (ward_id, spec.ward) {
            (Some(ward_id), Some(code)) => resolve(store, ward_id, code, spec.link).await?,
            _ => (None, None),
        };
        let password_hash = match &hash {
            Some(h) => h.clone(),
            None => {
                let h = crate::accounts::password::hash(PASSWORD).await?;
                hash = Some(h.clone());
                h
            }
        };
        let display_name = person
            .as_ref()
            .map_or(spec.note, |p| p.full_name.as_str())
            .to_string();
        store
            .create_user(
                Actor::default(),
                NewUser {
                    username: spec.username.to_string(),
                    display_name,
                    password_hash,
                    role: spec.role,
                    ward_id,
                    group_id,
                    person_id: person.map(|p| p.id),
                },
            )
            .await
            .with_context(|| format!("creating the demo account {}", spec.username))?;
        listed.push(account);
    }
    Ok(listed)
}

/// The group and person an account is linked to; `None` where the ward lacks them
/// (a ward of that code that was not made by this module).
async fn resolve(
    store: &dyn Store,
    ward_id: i64,
    ward_code: &str,
    link: Link,
) -> Result<(Option<i64>, Option<Person>)> {
    let group = |n: u32| async move {
        let code = group_code(ward_code, n);
        Ok::<_, anyhow::Error>(
            store
                .unit_by_code(&code)
                .await?
                .filter(|u| u.ward_id == Some(ward_id))
                .map(|u| u.id),
        )
    };
    Ok(match link {
        Link::Nobody => (None, None),
        Link::Group(n) => (group(n).await?, None),
        Link::Officer => {
            let filter = PeopleFilter {
                kind: Some(PersonKind::Officer),
                ..Default::default()
            };
            let officers = store.people(ward_id, &filter).await?;
            let pick = officers
                .iter()
                .position(|p| p.rank_title.contains("Cảnh sát khu vực"))
                .unwrap_or(0);
            (None, officers.into_iter().nth(pick))
        }
        Link::Team(n, role) => {
            let Some(group_id) = group(n).await? else {
                return Ok((None, None));
            };
            let team = store
                .team_groups(ward_id)
                .await?
                .into_iter()
                .find(|tg| tg.group_id == group_id);
            let person = match team {
                Some(tg) => {
                    let filter = PeopleFilter {
                        team_id: Some(tg.team_id),
                        ..Default::default()
                    };
                    store
                        .people(ward_id, &filter)
                        .await?
                        .into_iter()
                        .find(|p| p.team_role() == Some(role))
                }
                None => None,
            };
            (Some(group_id), person)
        }
        Link::Veteran => {
            let force = store
                .forces(ward_id)
                .await?
                .into_iter()
                .find(|f| f.kind == ForceKind::Veterans.as_str());
            let person = match force {
                Some(f) => {
                    let filter = PeopleFilter {
                        force_id: Some(f.id),
                        ..Default::default()
                    };
                    store.people(ward_id, &filter).await?.into_iter().next()
                }
                None => None,
            };
            (person.as_ref().and_then(|p| p.group_id), person)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Checked values and generated people

fn name(s: &str) -> Result<Name> {
    Name::parse(s).map_err(|e| anyhow!("{e}: {s:?}"))
}

fn text(s: &str) -> Result<String> {
    crate::domain::free_text(s).map_err(|e| anyhow!("{e}"))
}

fn code(s: &str) -> Result<Code> {
    Code::parse(s).map_err(|e| anyhow!("{e}: {s:?}"))
}

fn at(lat: f64, lon: f64) -> Result<Option<LatLon>> {
    let round = |x: f64| (x * 1e6).round() / 1e6;
    LatLon::new(round(lat), round(lon))
        .map(Some)
        .map_err(|e| anyhow!("{e}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn group_code(ward: &str, n: u32) -> String {
    format!("{ward}-tdp-{n:02}")
}

/// The group whose position is nearest to `position`.
fn nearest(groups: &[UnitInput], position: Option<LatLon>) -> Option<usize> {
    let p = position?;
    let distance = |g: &UnitInput| {
        g.position
            .map_or(f64::INFINITY, |q| (q.lat - p.lat).hypot(q.lon - p.lon))
    };
    (0..groups.len()).min_by(|&a, &b| distance(&groups[a]).total_cmp(&distance(&groups[b])))
}

/// Split `total` in proportion to `weights`, exactly (largest remainders).
fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut out: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let rest = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take(rest.max(0) as usize) {
        out[i] += 1;
    }
    out
}

/// A generated person's identity.
struct Someone {
    name: Name,
    phone: Phone,
    birth: NaiveDate,
    citizen_id: CitizenId,
}

/// The seeded generator of one ward; IDs, phones and names never repeat within it.
struct Gen {
    rng: StdRng,
    /// First digit of the 6-digit serial of citizen IDs, distinct per ward, so that the
    /// two wards never generate the same ID.
    serial_digit: u32,
    citizen_ids: HashSet<String>,
    phones: HashSet<String>,
    names: HashSet<String>,
}

impl Gen {
    fn new(seed: u64, serial_digit: u32) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            serial_digit,
            citizen_ids: HashSet::new(),
            phones: HashSet::new(),
            names: HashSet::new(),
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    fn family(&mut self) -> &'static str {
        let total: u32 = names::FAMILY.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.random_range(0..total);
        for &(family, w) in names::FAMILY {
            if r < w {
                return family;
            }
            r -= w;
        }
        names::FAMILY[0].0
    }

    fn near(&mut self, (lat, lon): (f64, f64), spread: f64) -> Result<Option<LatLon>> {
        let dlat = self.rng.random_range(-spread..=spread);
        let dlon = self.rng.random_range(-spread..=spread);
        at(lat + dlat, lon + dlon)
    }

    /// A position close to a unit's own.
    fn near_unit(&mut self, unit: &UnitInput, spread: f64) -> Result<Option<LatLon>> {
        match unit.position {
            Some(p) => self.near((p.lat, p.lon), spread),
            None => Ok(None),
        }
    }

    /// Someone aged `ages` (whole years) on `on`; `female` is the share of women.
    fn someone(
        &mut self,
        female: f64,
        ages: RangeInclusive<u64>,
        on: NaiveDate,
    ) -> Result<Someone> {
        let is_female = self.rng.random_bool(female);
        let full_name = loop {
            let family = self.family();
            let (middle, given) = if is_female {
                (
                    self.pick(names::FEMALE_MIDDLE),
                    self.pick(names::FEMALE_GIVEN),
                )
            } else {
                (self.pick(names::MALE_MIDDLE), self.pick(names::MALE_GIVEN))
            };
            let n = format!("{family} {middle} {given}");
            if self.names.insert(n.clone()) {
                break n;
            }
        };
        let age = self.rng.random_range(ages);
        // Between 1901 and 2099 `n` years last 365.25·n days, give or take 0.75 days:
        // this keeps the age in whole years equal to `age`.
        let days = (age as f64 * 365.25).ceil() as u64 + 1 + self.rng.random_range(0..362);
        let birth = on
            .checked_sub_days(Days::new(days))
            .ok_or_else(|| anyhow!("birth date"))?;
        let phone = loop {
            let prefix = self.pick(names::PHONE_PREFIXES);
            let p = format!("{prefix}{:07}", self.rng.random_range(0..10_000_000));
            if self.phones.insert(p.clone()) {
                break p;
            }
        };
        // CCCD: province 031 (Hải Phòng), century-and-sex digit, year of birth, serial.
        let century_sex = match (birth.year() >= 2000, is_female) {
            (false, false) => 0,
            (false, true) => 1,
            (true, false) => 2,
            (true, true) => 3,
        };
        let citizen_id = loop {
            let serial = self.serial_digit * 100_000 + self.rng.random_range(0..100_000);
            let id = format!("031{century_sex}{:02}{serial:06}", birth.year() % 100);
            if self.citizen_ids.insert(id.clone()) {
                break id;
            }
        };
        Ok(Someone {
            name: name(&full_name)?,
            phone: Phone::parse(&phone).map_err(|e| anyhow!("{e}"))?,
            birth,
            citizen_id: CitizenId::parse(&citizen_id).map_err(|e| anyhow!("{e}"))?,
        })
    }

    fn address(&mut self, streets: &[&str], group: u32, ward: &str) -> String {
        let street = self.pick(streets);
        let lane = self.rng.random_range(1..=60) * 2 + 1;
        let house = self.rng.random_range(1..=80);
        format!("Số {house}, ngõ {lane} {street}, tổ dân phố số {group}, {ward}")
    }
}

/// A person of the forces; the ids are filled in when the ward is written.
fn person(kind: PersonKind, who: Someone, address: String, joined_on: NaiveDate) -> PersonInput {
    PersonInput {
        ward_id: 0,
        kind,
        team_id: None,
        team_role: None,
        force_id: None,
        full_name: who.name,
        phone: Some(who.phone),
        birth_date: Some(who.birth),
        citizen_id: Some(who.citizen_id),
        address,
        group_id: None,
        rank_title: String::new(),
        training: String::new(),
        equipment: String::new(),
        joined_on: Some(joined_on),
        notes: String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn unit(
    kind: UnitKind,
    unit_code: &str,
    unit_name: &str,
    position: Option<LatLon>,
    households: Option<i64>,
    residents: Option<i64>,
    risk_notes: &str,
    notes: &str,
) -> Result<UnitInput> {
    Ok(UnitInput {
        parent_id: None,
        kind,
        code: code(unit_code)?,
        name: name(unit_name)?,
        area_ha: None,
        founded_year: None,
        households,
        residents,
        position,
        risk_notes: text(risk_notes)?,
        notes: text(notes)?,
        staffing: Staffing::default(),
    })
}

fn site(
    kind: SiteKind,
    site_name: &str,
    address: &str,
    position: Option<LatLon>,
) -> Result<SiteInput> {
    Ok(SiteInput {
        ward_id: 0,
        group_id: None,
        parent_site_id: None,
        kind,
        name: name(site_name)?,
        address: text(address)?,
        position,
        floors: None,
        apartments: None,
        residents: None,
        foreign_residents: None,
        rooms: None,
        lodgers: None,
        visitors: None,
        length_m: None,
        schedule: String::new(),
        in_use_since: None,
        risk_notes: String::new(),
        notes: String::new(),
    })
}

fn team(
    n: u32,
    decision_no: String,
    decision_date: NaiveDate,
    founded_on: NaiveDate,
    notes: &str,
) -> Result<TeamInput> {
    Ok(TeamInput {
        ward_id: 0,
        name: name(&format!("Tổ bảo vệ ANTT TDP số {n}"))?,
        decision_no,
        decision_date: Some(decision_date),
        founded_on: Some(founded_on),
        notes: text(notes)?,
        group_ids: Vec::new(),
    })
}

/// Three members per team (leader, deputy, member), living in the team's group.
fn team_people(
    g: &mut Gen,
    teams: usize,
    streets: &[&str],
    ward_name: &str,
    on: NaiveDate,
) -> Result<Vec<PlannedPerson>> {
    let mut people = Vec::new();
    for t in 0..teams {
        for role in [TeamRole::Leader, TeamRole::Deputy, TeamRole::Member] {
            let who = g.someone(0.25, 25..=64, on)?;
            let address = text(&g.address(streets, t as u32 + 1, ward_name))?;
            let mut input = person(PersonKind::TeamMember, who, address, on);
            input.team_role = Some(role);
            input.training = TRAINING.to_string();
            input.equipment = EQUIPMENT.to_string();
            people.push(PlannedPerson {
                team: Some(t),
                group: Some(t),
                in_force: false,
                input,
            });
        }
    }
    Ok(people)
}

/// Ward police officers with the given rank and post.
fn officers(g: &mut Gen, ranks: &[&str], on: NaiveDate) -> Result<Vec<PlannedPerson>> {
    let mut people = Vec::new();
    for rank in ranks {
        let who = g.someone(0.15, 28..=50, on)?;
        let mut input = person(PersonKind::Officer, who, String::new(), on);
        input.rank_title = rank.to_string();
        input.training = "Nghiệp vụ Cảnh sát khu vực".to_string();
        people.push(PlannedPerson {
            team: None,
            group: None,
            in_force: false,
            input,
        });
    }
    Ok(people)
}

// ---------------------------------------------------------------------------------------
// The data

fn province() -> Result<UnitInput> {
    let mut p = unit(
        UnitKind::Province,
        PROVINCE,
        "Thành phố Hải Phòng",
        at(20.8449, 106.6881)?,
        None,
        None,
        "",
        "Từ 01/07/2025, thành phố Hải Phòng hợp nhất với tỉnh Hải Dương, gồm 114 đơn vị hành \
         chính cấp xã (45 phường, 67 xã, 2 đặc khu), khoảng 4,66 triệu dân; không còn cấp quận, \
         huyện, các phường cũ được sáp nhập thành phường lớn hơn. Dữ liệu mẫu giữ tên các phường \
         như trong bài viết nguồn.\n\
         Định mức thành viên Tổ bảo vệ ANTT (mẫu, theo quy định của một tỉnh khác vì chưa tìm \
         thấy quy định của Hải Phòng): đến 2.700 nhân khẩu 3 người; thêm 1 người cho mỗi 900 \
         nhân khẩu tiếp theo.",
    )?;
    p.staffing = Staffing {
        min_members: Some(3),
        base_residents: Some(2700),
        step_residents: Some(900),
    };
    Ok(p)
}

const LT_RISKS: &str = "Tiềm ẩn các nguyên nhân, điều kiện dễ phát sinh các loại tội phạm, tệ nạn \
xã hội; tình hình trật tự an toàn giao thông, trật tự công cộng, cháy, nổ còn nhiều vấn đề cần tập \
trung giải quyết.\n\
Chung cư cao tầng SHP (230 căn hộ, 398 nhân khẩu) có nhiều căn hộ cho người nước ngoài thuê để ở.\n\
Khu tập thể Đồng Tâm đưa vào sử dụng trước năm 1990: 12 dãy (10 dãy 3 tầng, 2 dãy 4 tầng), 306 căn \
hộ, 935 nhân khẩu.\n\
Đường Lạch Tray dài 1,8 km chạy dọc phường, trục nối nhiều tuyến phố chính; các trung tâm văn hoá, \
thể thao, vui chơi giải trí và công trình phúc lợi công cộng lớn của thành phố tập trung đông người.";

const LT_NOTES: &str = "Trước ngày 01/07/2025 thuộc quận Ngô Quyền (cấp quận đã bỏ). Thành lập năm \
1981, diện tích 67,48 ha, chia làm 7 tổ dân phố. Có vị trí quan trọng về chính trị, kinh tế – văn \
hoá – xã hội của quận và thành phố; trên địa bàn có Cung Văn hoá hữu nghị Việt Tiệp, Cung Văn hoá \
Thể thao thanh niên Hải Phòng, Cung Văn hoá Thiếu nhi thành phố, Sân vận động Lạch Tray và nhiều cơ \
quan quan trọng của thành phố.\n\
Công tác: tuyên truyền, vận động cán bộ, Nhân dân tích cực, tự giác tham gia giữ gìn ANTT; phong \
trào Toàn dân bảo vệ an ninh Tổ quốc được củng cố và nhân rộng; Công an phường làm tốt vai trò tham \
mưu thường trực cho cấp uỷ, chính quyền và Ban Chỉ đạo 799 phường.\n\
Kết quả: an ninh chính trị giữ vững, không để xảy ra đột xuất bất ngờ, không phát sinh \"điểm nóng\"; \
không có trọng án; số vụ phạm pháp hình sự được kiềm chế, giảm so với cùng kỳ; tỉ lệ điều tra khám \
phá đạt mục tiêu đề ra.\n\
Khen thưởng năm 2024: 1 đồng chí Công an phường được Thủ tướng Chính phủ tặng Bằng khen; 2 đồng chí \
được Chủ tịch UBND quận Ngô Quyền tặng Giấy khen. Tại Ngày hội, Chủ tịch UBND phường biểu dương 3 tập \
thể và 5 cá nhân có thành tích xuất sắc trong phong trào Toàn dân bảo vệ an ninh Tổ quốc.\n\
Ngày 19/08/2024: Ngày hội Toàn dân bảo vệ an ninh Tổ quốc năm 2024 và ra mắt lực lượng tham gia bảo \
vệ ANTT ở cơ sở: 7 Tổ bảo vệ ANTT tại 7 tổ dân phố, gồm 21 đồng chí, cùng Công an phường tuần tra, \
chốt điểm, hỗ trợ nắm tình hình, xây dựng phong trào Toàn dân bảo vệ an ninh Tổ quốc.\n\
Hỗ trợ: Công an quận Ngô Quyền tặng 50 bình PCCC cho các hộ nghèo, hộ có hoàn cảnh khó khăn trên \
địa bàn phường.\n\
Nguồn: tin ngày 20/08/2024 trên trang tin Công an thành phố Hải Phòng. Số hộ, nhân khẩu từng tổ dân \
phố, toạ độ và thành viên các tổ là dữ liệu mẫu.";

const LT_TEAM_NOTES: &str = "Ra mắt ngày 19/08/2024 tại Ngày hội Toàn dân bảo vệ an ninh Tổ quốc. \
Cùng Công an phường tuần tra, chốt điểm, hỗ trợ nắm tình hình, xây dựng phong trào Toàn dân bảo vệ \
an ninh Tổ quốc. Số quyết định là dữ liệu mẫu.";

fn plan_lach_tray() -> Result<WardPlan> {
    const WARD_NAME: &str = "phường Lạch Tray";
    let on = date(2024, 8, 19);
    let mut g = Gen::new(20_240_819, 1);
    let center = (20.8545, 106.6900);

    let mut ward = unit(
        UnitKind::Ward,
        LACH_TRAY,
        "Phường Lạch Tray",
        at(center.0, center.1)?,
        None,
        None,
        LT_RISKS,
        LT_NOTES,
    )?;
    ward.founded_year = Some(1981);
    ward.area_ha = Some(67.48);

    let mut groups = Vec::new();
    for n in 1..=7u32 {
        let households = g.rng.random_range(320..=680i64);
        let per_household = g.rng.random_range(3.0..3.4);
        let residents = (households as f64 * per_household).round() as i64;
        let risk = match n {
            3 => "Có chung cư cao tầng SHP Plaza, nhiều căn hộ cho người nước ngoài thuê để ở.",
            5 | 6 => "Có các dãy nhà của khu tập thể Đồng Tâm, xây trước năm 1990.",
            _ => "",
        };
        // The groups holding SHP and Đồng Tâm lie where those are.
        let position = match n {
            3 => g.near((20.8570, 106.6857), 0.0004)?,
            5 => g.near((20.8510, 106.6929), 0.0003)?,
            6 => g.near((20.8521, 106.6933), 0.0003)?,
            _ => g.near(center, 0.0035)?,
        };
        groups.push(unit(
            UnitKind::Group,
            &group_code(LACH_TRAY, n),
            &format!("Tổ dân phố số {n}"),
            position,
            Some(households),
            Some(residents),
            risk,
            "",
        )?);
    }

    let mut sites = Vec::new();
    let mut shp = site(
        SiteKind::ApartmentBuilding,
        "Chung cư SHP Plaza",
        "Đường Lạch Tray, phường Lạch Tray",
        at(20.8574, 106.6861)?,
    )?;
    shp.in_use_since = Some(2017);
    shp.apartments = Some(230);
    shp.residents = Some(398);
    shp.foreign_residents = Some(g.rng.random_range(40..=70));
    shp.risk_notes = text(
        "Quản lý cư trú, tạm trú của người nước ngoài thuê căn hộ; phòng cháy, chữa cháy nhà cao tầng.",
    )?;
    shp.notes = text(
        "Chung cư cao tầng đưa vào sử dụng từ năm 2017: 230 căn hộ, 398 nhân khẩu; nhiều căn hộ cho người \
         nước ngoài thuê để ở. Số người nước ngoài là số liệu mẫu.",
    )?;
    sites.push((Some(2), shp));

    // Đồng Tâm: 12 blocks, 10 of 3 floors and 2 of 4, 306 apartments and 935 residents.
    let blocks: Vec<(String, i64)> = (1..=6)
        .map(|i| (format!("A{i}"), 3))
        .chain((1..=6).map(|i| (format!("B{i}"), if i >= 5 { 4 } else { 3 })))
        .collect();
    let weights: Vec<f64> = blocks
        .iter()
        .map(|(_, f)| *f as f64 * g.rng.random_range(0.85..1.15))
        .collect();
    let apartments = apportion(306, &weights);
    let weights: Vec<f64> = apartments
        .iter()
        .map(|&a| a as f64 * g.rng.random_range(2.8..3.4))
        .collect();
    let residents = apportion(935, &weights);
    for (i, ((block, floors), (apts, res))) in blocks
        .iter()
        .zip(apartments.iter().zip(&residents))
        .enumerate()
    {
        let (row, col) = ((i / 6) as f64, (i % 6) as f64);
        let mut s = site(
            SiteKind::CollectiveHousing,
            &format!("Khu tập thể Đồng Tâm - Nhà {block}"),
            &format!("Nhà {block}, khu tập thể Đồng Tâm, phường Lạch Tray"),
            at(20.8512 + row * 0.0006, 106.6921 + col * 0.0004)?,
        )?;
        s.floors = Some(*floors);
        s.apartments = Some(*apts);
        s.residents = Some(*res);
        s.risk_notes =
            text("Nhà tập thể cũ: nguy cơ cháy, nổ do hệ thống điện cũ, lối thoát nạn hẹp.")?;
        s.notes = text(
            "Khu tập thể Đồng Tâm đưa vào sử dụng trước năm 1990: 12 dãy (10 dãy 3 tầng, 2 dãy 4 \
             tầng), tổng 306 căn hộ, 935 nhân khẩu. Số căn hộ, nhân khẩu từng dãy là số liệu mẫu.",
        )?;
        sites.push((Some(if i < 6 { 4 } else { 5 }), s));
    }

    let mut road = site(
        SiteKind::Road,
        "Đường Lạch Tray",
        "Phường Lạch Tray",
        at(center.0, center.1)?,
    )?;
    road.length_m = Some(1800);
    road.risk_notes = text(
        "Lưu lượng giao thông lớn; đông người khi có trận đấu, sự kiện tại sân vận động và các cung văn hoá.",
    )?;
    road.notes = text(
        "Chạy dọc theo địa bàn phường, dài 1,8 km; trục đường nối liền nhiều tuyến phố chính của thành phố.",
    )?;
    sites.push((None, road));

    for (venue, full, lat, lon) in [
        (
            "Cung văn hoá hữu nghị Việt – Tiệp",
            "Cung Văn hoá hữu nghị Việt Tiệp",
            20.8583,
            106.6848,
        ),
        (
            "Cung văn hoá thể thao thanh niên",
            "Cung Văn hoá Thể thao thanh niên Hải Phòng",
            20.8551,
            106.6898,
        ),
        (
            "Cung Thiếu nhi",
            "Cung Văn hoá Thiếu nhi thành phố",
            20.8563,
            106.6879,
        ),
        (
            "Sân vận động Lạch Tray",
            "Sân vận động Lạch Tray",
            20.8555,
            106.6930,
        ),
    ] {
        let mut s = site(
            SiteKind::Venue,
            venue,
            "Đường Lạch Tray, phường Lạch Tray",
            at(lat, lon)?,
        )?;
        s.notes = text(&format!(
            "{full}: công trình văn hoá, thể thao, vui chơi giải trí lớn của thành phố."
        ))?;
        s.risk_notes = text(
            "Tập trung đông người khi có sự kiện, trận đấu: trật tự công cộng, giao thông, phòng cháy.",
        )?;
        sites.push((nearest(&groups, s.position), s));
    }

    for (agency, lat, lon) in [
        (
            "Trung tâm Huấn luyện và Thi đấu thể dục thể thao thành phố",
            20.8550,
            106.6937,
        ),
        (
            "Trụ sở cơ quan thành phố trên đường Lạch Tray",
            20.8531,
            106.6912,
        ),
    ] {
        let mut s = site(
            SiteKind::Agency,
            agency,
            "Đường Lạch Tray, phường Lạch Tray",
            at(lat, lon)?,
        )?;
        s.notes = text(
            "Một trong nhiều cơ quan quan trọng của thành phố trên địa bàn phường (tên minh hoạ, dữ liệu mẫu).",
        )?;
        sites.push((nearest(&groups, s.position), s));
    }

    for (lodging, rooms, group) in [("Nhà nghỉ Hoa Phượng", 12, 0), ("Nhà nghỉ Sao Biển", 10, 6)]
    {
        let address = text(&g.address(names::LACH_TRAY_STREETS, group as u32 + 1, WARD_NAME))?;
        let position = g.near_unit(&groups[group], 0.0008)?;
        let mut s = site(SiteKind::Lodging, lodging, &address, position)?;
        s.rooms = Some(rooms);
        s.risk_notes = text("Khách lưu trú thay đổi hằng ngày: kiểm tra thông báo lưu trú.")?;
        s.notes = text("Tên minh hoạ (dữ liệu mẫu).")?;
        sites.push((Some(group), s));
    }

    let teams = (1..=7u32)
        .map(|n| {
            let t = team(
                n,
                format!("QĐ {}/QĐ-UBND", 120 + n),
                date(2024, 8, 14),
                on,
                LT_TEAM_NOTES,
            )?;
            Ok((vec![n as usize - 1], t))
        })
        .collect::<Result<Vec<_>>>()?;

    let mut people = team_people(&mut g, 7, names::LACH_TRAY_STREETS, WARD_NAME, on)?;
    people.extend(officers(
        &mut g,
        &[
            "Trung tá, Trưởng Công an phường",
            "Thiếu tá, Phó Trưởng Công an phường",
            "Thượng uý, Cảnh sát khu vực",
        ],
        on,
    )?);

    Ok(WardPlan {
        ward,
        groups,
        sites,
        teams,
        force: None,
        people,
    })
}

const DHK_RISKS: &str = "Địa bàn rộng, dân số đông; giáp ranh với nhiều phường khác; có nhiều nhà \
nghỉ, nhà cho thuê trọ trong dân, tiềm ẩn mất ANTT.\n\
Nhiều tuyến giao thông quan trọng: đường Nguyễn Văn Linh, đường Miếu Hai Xã, đường Chợ Hàng, đường \
Hồ Sen – Cầu Rào 2.\n\
Chợ Hàng, chợ phiên duy nhất của thành phố, họp vào sáng Chủ nhật hằng tuần, thu hút hàng chục nghìn \
lượt người từ khắp nơi đến tham quan, mua bán: tiềm ẩn nhiều yếu tố phức tạp về ANTT và TTATGT.";

const DHK_NOTES: &str = "Trước ngày 01/07/2025 thuộc quận Lê Chân (cấp quận đã bỏ). 8.480 hộ, \
29.628 nhân khẩu, chia thành 22 tổ dân phố. Trên địa bàn có Trường Đại học Quản lý và Công nghệ Hải \
Phòng, Trường Tiểu học Dư Hàng Kênh, Trường THCS Dư Hàng Kênh và một số cơ quan liên doanh.\n\
Ngày 19/10/2023: Hội nghị ra mắt 2 mô hình \"Nhóm ZALO phòng chống tội phạm, phòng chống cháy, nổ\" \
(người dân, Công an phường và các lực lượng báo tin, cảnh báo trong nhóm) và \"Hội Cựu chiến binh đảm \
bảo an toàn giao thông phiên chợ Hàng và cổng trường cho em\". Mục đích: chủ động nắm chắc tình hình, \
nhanh chóng xử lý, giải quyết kịp thời các vấn đề phức tạp về ANTT, TTATGT, PCCC; bảo vệ tuyệt đối \
an toàn tính mạng và tài sản của Nhân dân; nâng cao hiệu quả phong trào Toàn dân bảo vệ an ninh Tổ \
quốc.\n\
Các mô hình đặt dưới sự chỉ đạo của Đảng uỷ phường, do UBND phường điều hành, phối hợp với các cơ \
quan, ban ngành, đặc biệt là Công an phường và Hội Cựu chiến binh phường. Đại diện lãnh đạo Đảng uỷ, \
HĐND, UBND, UBMTTQ Việt Nam phường, Công an phường, Hội Cựu chiến binh phường và các tổ chức chính \
trị – xã hội địa phương đã ký kết giao ước thi đua thực hiện các mô hình.\n\
Hỗ trợ: tặng 15 bình chữa cháy và 15 phần quà (trị giá 500.000 đồng/phần) cho 15 hộ cận nghèo trên \
địa bàn.\n\
Nguồn: tin ngày 19/10/2023 trên trang tin Công an thành phố Hải Phòng. Số hộ, nhân khẩu từng tổ dân \
phố, toạ độ, các tổ bảo vệ ANTT và thành viên là dữ liệu mẫu.";

const DHK_TEAM_NOTES: &str = "Thành lập khi Luật Lực lượng tham gia bảo vệ an ninh, trật tự ở cơ sở \
có hiệu lực (01/07/2024). Số, ngày quyết định là dữ liệu mẫu.";

const VETERANS: &str = "Hội Cựu chiến binh phường Dư Hàng Kênh";

const VETERAN_NOTES: &str = "Mô hình \"Hội Cựu chiến binh đảm bảo trật tự an toàn giao thông phiên chợ \
Hàng và cổng trường học\" (tên khi ra mắt: \"Hội Cựu chiến binh đảm bảo an toàn giao thông phiên chợ \
Hàng và cổng trường cho em\"), ra mắt ngày 19/10/2023: hội viên hướng dẫn, phân luồng giao thông \
phiên chợ Hàng sáng Chủ nhật và cổng trường giờ đưa đón học sinh (khoảng 06:30 và 16:00). Hội ký \
kết giao ước thi đua thực hiện mô hình cùng Đảng uỷ, HĐND, UBND, UBMTTQ Việt Nam phường và Công an \
phường.";

fn plan_du_hang_kenh() -> Result<WardPlan> {
    const WARD_NAME: &str = "phường Dư Hàng Kênh";
    let launch = date(2023, 10, 19);
    let founded = date(2024, 7, 1);
    let mut g = Gen::new(20_231_019, 2);
    let center = (20.842, 106.672);

    let ward = unit(
        UnitKind::Ward,
        DU_HANG_KENH,
        "Phường Dư Hàng Kênh",
        at(center.0, center.1)?,
        Some(8480),
        Some(29628),
        DHK_RISKS,
        DHK_NOTES,
    )?;

    // 22 groups of varied size, summing exactly to 8,480 households and 29,628 residents.
    let weights: Vec<f64> = (0..22).map(|_| g.rng.random_range(0.75..1.25)).collect();
    let households = apportion(8480, &weights);
    let weights: Vec<f64> = households
        .iter()
        .map(|&h| h as f64 * g.rng.random_range(3.25..3.75))
        .collect();
    let residents = apportion(29628, &weights);
    let mut groups = Vec::new();
    for (i, (h, r)) in households.iter().zip(&residents).enumerate() {
        let n = i as u32 + 1;
        let position = g.near(center, 0.006)?;
        groups.push(unit(
            UnitKind::Group,
            &group_code(DU_HANG_KENH, n),
            &format!("Tổ dân phố số {n}"),
            position,
            Some(*h),
            Some(*r),
            "",
            "",
        )?);
    }

    let mut sites = Vec::new();
    for (road, length, lat, lon) in [
        ("Đường Nguyễn Văn Linh", 1600, 20.8440, 106.6680),
        ("Đường Miếu Hai Xã", 1300, 20.8452, 106.6745),
        ("Đường Chợ Hàng", 900, 20.8408, 106.6712),
        ("Đường Hồ Sen – Cầu Rào 2", 1200, 20.8385, 106.6760),
    ] {
        let mut s = site(SiteKind::Road, road, WARD_NAME, at(lat, lon)?)?;
        s.length_m = Some(length);
        s.risk_notes = text("Tuyến giao thông quan trọng, lưu lượng lớn; ùn tắc giờ cao điểm.")?;
        s.notes = text("Chiều dài đoạn qua địa bàn phường là số liệu mẫu.")?;
        sites.push((None, s));
    }

    let mut market = site(
        SiteKind::Market,
        "Chợ Hàng",
        "Đường Chợ Hàng, phường Dư Hàng Kênh",
        at(20.8405, 106.6708)?,
    )?;
    market.schedule = text("Chợ phiên mỗi sáng Chủ nhật")?;
    market.visitors = Some(30000);
    market.risk_notes = text(
        "Hàng chục nghìn lượt người mỗi phiên: tiềm ẩn nhiều yếu tố phức tạp về an ninh trật tự và \
         trật tự an toàn giao thông.",
    )?;
    market.notes = text(
        "Chợ phiên duy nhất của thành phố, họp một phiên vào sáng Chủ nhật hằng tuần, thu hút hàng vạn \
         lượt khách từ khắp mọi nơi đến tham quan, mua bán. Hội Cựu chiến binh phường đảm bảo an toàn \
         giao thông phiên chợ (mô hình ra mắt ngày 19/10/2023).",
    )?;
    let market_group = nearest(&groups, market.position);
    sites.push((market_group, market));

    let university = at(20.8372, 106.6702)?;
    for (school, position, gate) in [
        (
            "Trường Đại học Quản lý và Công nghệ Hải Phòng",
            university,
            false,
        ),
        ("Trường Tiểu học Dư Hàng Kênh", at(20.8431, 106.6731)?, true),
        ("Trường THCS Dư Hàng Kênh", at(20.8426, 106.6739)?, true),
    ] {
        let mut s = site(SiteKind::School, school, WARD_NAME, position)?;
        if gate {
            s.schedule = text("Giờ đưa đón học sinh: khoảng 06:30 và 16:00")?;
            s.risk_notes =
                text("Ùn tắc, mất an toàn giao thông ở cổng trường giờ đưa đón học sinh.")?;
            s.notes = text(
                "Hội Cựu chiến binh phường hướng dẫn giao thông cổng trường (mô hình \"cổng trường cho \
                 em\", ra mắt ngày 19/10/2023).",
            )?;
        }
        sites.push((nearest(&groups, s.position), s));
    }

    for (office, lat, lon) in [
        (
            "Văn phòng công ty liên doanh số 1 – đường Nguyễn Văn Linh",
            20.8446,
            106.6668,
        ),
        (
            "Văn phòng công ty liên doanh số 2 – đường Hồ Sen – Cầu Rào 2",
            20.8381,
            106.6771,
        ),
    ] {
        let mut s = site(SiteKind::Agency, office, WARD_NAME, at(lat, lon)?)?;
        s.notes = text(
            "Bài viết nêu \"một số cơ quan liên doanh đóng trên địa bàn\"; tên minh hoạ (dữ liệu mẫu).",
        )?;
        sites.push((nearest(&groups, s.position), s));
    }

    let university_group = nearest(&groups, university).unwrap_or(0);
    for (lodging, rooms, lodgers, group, street) in [
        ("Nhà nghỉ Hương Sen", 15, None, 4, "đường Hồ Sen"),
        ("Nhà nghỉ Thành Đạt", 12, None, 8, "đường Nguyễn Văn Linh"),
        ("Nhà nghỉ An Bình", 10, None, 13, "đường Miếu Hai Xã"),
        (
            "Nhà trọ ngõ Chợ Hàng",
            12,
            Some(26),
            market_group.unwrap_or(0),
            "đường Chợ Hàng",
        ),
        ("Nhà trọ Miếu Hai Xã", 8, Some(17), 3, "đường Miếu Hai Xã"),
        (
            "Khu nhà trọ sinh viên gần trường Đại học",
            20,
            Some(45),
            university_group,
            "đường Nguyễn Văn Linh",
        ),
    ] {
        let address = text(&g.address(&[street], group as u32 + 1, WARD_NAME))?;
        let position = g.near_unit(&groups[group], 0.0008)?;
        let mut s = site(SiteKind::Lodging, lodging, &address, position)?;
        s.rooms = Some(rooms);
        s.lodgers = lodgers;
        s.risk_notes = text(
            "Người lưu trú, thuê trọ thay đổi thường xuyên: kiểm tra đăng ký tạm trú, thông báo lưu trú.",
        )?;
        s.notes = text("Tên minh hoạ (dữ liệu mẫu).")?;
        sites.push((Some(group), s));
    }

    let teams = (1..=22u32)
        .map(|n| {
            let t = team(
                n,
                format!("QĐ {}/QĐ-UBND", 200 + n),
                date(2024, 6, 25),
                founded,
                DHK_TEAM_NOTES,
            )?;
            Ok((vec![n as usize - 1], t))
        })
        .collect::<Result<Vec<_>>>()?;

    let force = ForceInput {
        ward_id: 0,
        kind: ForceKind::Veterans,
        name: name(VETERANS)?,
        founded_on: Some(launch),
        notes: text(VETERAN_NOTES)?,
    };

    let mut people = team_people(&mut g, 22, names::DU_HANG_KENH_STREETS, WARD_NAME, founded)?;
    let posts = [
        "Điểm trực: phiên chợ Hàng sáng Chủ nhật",
        "Điểm trực: cổng Trường Tiểu học Dư Hàng Kênh",
        "Điểm trực: cổng Trường THCS Dư Hàng Kênh",
    ];
    for i in 0..30 {
        let who = g.someone(0.1, 55..=75, launch)?;
        let group = g.rng.random_range(0..22usize);
        let address = text(&g.address(names::DU_HANG_KENH_STREETS, group as u32 + 1, WARD_NAME))?;
        let mut input = person(PersonKind::Volunteer, who, address, launch);
        input.training = VETERAN_TRAINING.to_string();
        input.equipment = VETERAN_EQUIPMENT.to_string();
        input.notes = posts[i % posts.len()].to_string();
        people.push(PlannedPerson {
            team: None,
            group: Some(group),
            in_force: true,
            input,
        });
    }
    people.extend(officers(
        &mut g,
        &[
            "Trung tá, Trưởng Công an phường",
            "Thiếu tá, Phó Trưởng Công an phường",
            "Đại uý, Cảnh sát khu vực",
            "Thượng uý, Cảnh sát khu vực",
        ],
        founded,
    )?);

    Ok(WardPlan {
        ward,
        groups,
        sites,
        teams,
        force: Some(force),
        people,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::territory::SiteFilter;
    use crate::store::{AccountStore, ForcesStore, TerritoryStore};

    async fn open(dir: &tempfile::TempDir) -> SqliteStore {
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn ward(store: &dyn Store, code: &str) -> i64 {
        store.unit_by_code(code).await.unwrap().unwrap().id
    }

    async fn people(store: &dyn Store, ward_id: i64, filter: PeopleFilter) -> Vec<Person> {
        store.people(ward_id, &filter).await.unwrap()
    }

    #[tokio::test]
    async fn loads_every_fact_of_the_sources() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        let summary = load(&store).await.unwrap();
        assert_eq!(summary.wards_created, vec![LACH_TRAY, DU_HANG_KENH]);
        assert_eq!(summary.accounts.len(), ACCOUNTS.len());

        let province = store.unit_by_code(PROVINCE).await.unwrap().unwrap();
        assert_eq!(province.staff_min_members, Some(3));
        assert_eq!(province.staff_base_residents, Some(2700));
        assert_eq!(province.staff_step_residents, Some(900));

        let wards = store.wards().await.unwrap();
        let lt = wards.iter().find(|w| w.code == LACH_TRAY).unwrap();
        let dhk = wards.iter().find(|w| w.code == DU_HANG_KENH).unwrap();
        assert_eq!(lt.parent_id, Some(province.id));
        assert_eq!(dhk.parent_id, Some(province.id));
        assert_eq!(lt.groups, 7);
        assert_eq!(dhk.groups, 22);
        assert_eq!(dhk.households, Some(8480));
        assert_eq!(dhk.residents, Some(29628));

        // Lạch Tray: the ward itself, the SHP tower, Đồng Tâm, the road.
        let lt_unit = store.unit(lt.id).await.unwrap().unwrap();
        assert_eq!(lt_unit.founded_year, Some(1981));
        assert_eq!(lt_unit.area_ha, Some(67.48));
        for fact in [
            "Ngô Quyền",
            "799",
            "3 tập thể và 5 cá nhân",
            "50 bình",
            "19/08/2024",
            "Thủ tướng",
        ] {
            assert!(lt_unit.notes.contains(fact), "Lạch Tray notes lack {fact}");
        }
        for risk in [
            "tội phạm",
            "tệ nạn xã hội",
            "trật tự an toàn giao thông",
            "trật tự công cộng",
            "cháy, nổ",
        ] {
            assert!(
                lt_unit.risk_notes.contains(risk),
                "Lạch Tray risks lack {risk}"
            );
        }
        let lt_sites = store.sites(lt.id, &SiteFilter::default()).await.unwrap();
        let blocks: Vec<_> = lt_sites
            .iter()
            .filter(|s| s.kind == "collective_housing")
            .collect();
        assert_eq!(blocks.len(), 12);
        assert_eq!(
            blocks.iter().map(|s| s.apartments.unwrap()).sum::<i64>(),
            306
        );
        assert_eq!(
            blocks.iter().map(|s| s.residents.unwrap()).sum::<i64>(),
            935
        );
        assert_eq!(blocks.iter().filter(|s| s.floors == Some(3)).count(), 10);
        assert_eq!(blocks.iter().filter(|s| s.floors == Some(4)).count(), 2);
        let shp = lt_sites
            .iter()
            .find(|s| s.name == "Chung cư SHP Plaza")
            .unwrap();
        assert_eq!(
            (shp.apartments, shp.residents, shp.in_use_since),
            (Some(230), Some(398), Some(2017))
        );
        assert!(shp.foreign_residents.unwrap() > 0);
        assert!(shp.notes.contains("nhiều căn hộ cho người nước ngoài thuê"));
        let road = lt_sites
            .iter()
            .find(|s| s.name == "Đường Lạch Tray")
            .unwrap();
        assert_eq!(road.length_m, Some(1800));
        assert_eq!(lt_sites.iter().filter(|s| s.kind == "venue").count(), 4);

        // Lạch Tray forces: 7 teams of 3, each covering its own group, and 3 officers.
        let teams = store.teams(lt.id, false).await.unwrap();
        assert_eq!(teams.len(), 7);
        assert!(
            teams
                .iter()
                .all(|t| t.founded_on == Some(date(2024, 8, 19)))
        );
        assert_eq!(store.team_groups(lt.id).await.unwrap().len(), 7);
        let members = people(
            &store,
            lt.id,
            PeopleFilter {
                kind: Some(PersonKind::TeamMember),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(members.len(), 21);
        assert!(
            members
                .iter()
                .all(|p| p.team_id.is_some() && p.group_id.is_some())
        );
        let officers = people(
            &store,
            lt.id,
            PeopleFilter {
                kind: Some(PersonKind::Officer),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(officers.len(), 3);

        // Dư Hàng Kênh: market, schools, roads, 22 teams, the veterans.
        let dhk_sites = store.sites(dhk.id, &SiteFilter::default()).await.unwrap();
        let market = dhk_sites.iter().find(|s| s.name == "Chợ Hàng").unwrap();
        assert_eq!(market.kind, "market");
        assert!(market.schedule.contains("Chủ nhật"));
        assert!(market.notes.contains("duy nhất"));
        assert_eq!(dhk_sites.iter().filter(|s| s.kind == "school").count(), 3);
        assert_eq!(dhk_sites.iter().filter(|s| s.kind == "road").count(), 4);
        assert!(dhk_sites.iter().filter(|s| s.kind == "lodging").count() >= 3);
        let dhk_unit = store.unit(dhk.id).await.unwrap().unwrap();
        for fact in [
            "Lê Chân",
            "19/10/2023",
            "ZALO",
            "giao ước thi đua",
            "15 bình",
            "500.000",
            "cận nghèo",
        ] {
            assert!(
                dhk_unit.notes.contains(fact),
                "Dư Hàng Kênh notes lack {fact}"
            );
        }
        assert_eq!(store.teams(dhk.id, false).await.unwrap().len(), 22);
        let members = people(
            &store,
            dhk.id,
            PeopleFilter {
                kind: Some(PersonKind::TeamMember),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(members.len(), 66);
        let forces = store.forces(dhk.id).await.unwrap();
        assert_eq!(forces.len(), 1);
        assert_eq!(forces[0].kind, "veterans");
        assert_eq!(forces[0].founded_on, Some(date(2023, 10, 19)));
        let veterans = people(
            &store,
            dhk.id,
            PeopleFilter {
                force_id: Some(forces[0].id),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(veterans.len(), 30);
        assert!(veterans.iter().all(|p| p.kind == "volunteer"));
        let officers = people(
            &store,
            dhk.id,
            PeopleFilter {
                kind: Some(PersonKind::Officer),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(officers.len(), 4);

        // Citizen IDs: 12 digits, Hải Phòng's 031, unique across both wards.
        let mut everyone = people(&store, lt.id, PeopleFilter::default()).await;
        everyone.extend(people(&store, dhk.id, PeopleFilter::default()).await);
        assert_eq!(everyone.len(), 24 + 100);
        let ids: HashSet<_> = everyone
            .iter()
            .map(|p| p.citizen_id.clone().unwrap())
            .collect();
        assert_eq!(ids.len(), everyone.len());
        assert!(ids.iter().all(|id| id.len() == 12 && id.starts_with("031")));
        assert!(everyone.iter().all(|p| Phone::parse(&p.phone).is_ok()));

        // Accounts exist, verify, and are linked where the brief says.
        for account in &summary.accounts {
            let user = store
                .user_by_username(&account.username)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(user.role(), account.role);
            assert!(crate::accounts::password::verify(PASSWORD, &user.password_hash).await);
        }
        let leader = store
            .user_by_username("lt.totruong1")
            .await
            .unwrap()
            .unwrap();
        let person = store
            .person(leader.person_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(person.team_role(), Some(TeamRole::Leader));
        assert_eq!(leader.display_name, person.full_name);
        let tdp1 = store
            .unit_by_code("lach-tray-tdp-01")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(leader.group_id, Some(tdp1.id));
        assert_eq!(person.group_id, Some(tdp1.id));
        let member = store.user_by_username("lt.tovien1").await.unwrap().unwrap();
        let member = store
            .person(member.person_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (member.team_role(), member.team_id),
            (Some(TeamRole::Member), person.team_id)
        );
        let officer = store.user_by_username("lt.congan").await.unwrap().unwrap();
        let officer = store
            .person(officer.person_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(officer.rank_title.contains("Cảnh sát khu vực"));
        let veteran = store
            .user_by_username("dhk.cuuchienbinh")
            .await
            .unwrap()
            .unwrap();
        let veteran = store
            .person(veteran.person_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(veteran.force_id, Some(forces[0].id));
        let resident = store.user_by_username("lt.dan").await.unwrap().unwrap();
        assert_eq!(
            resident.group_id,
            Some(ward(&store, "lach-tray-tdp-02").await)
        );
        let admin = store.user_by_username("admin").await.unwrap().unwrap();
        assert_eq!((admin.ward_id, admin.role()), (None, Role::Admin));
    }

    #[tokio::test]
    async fn loading_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        let first = load(&store).await.unwrap();
        let audit = store.audit_trail(None, None, 100_000).await.unwrap().len();
        let units = store.all_units().await.unwrap().len();
        let users = store.list_users(None).await.unwrap().len();
        assert_eq!(users, ACCOUNTS.len());

        let second = load(&store).await.unwrap();
        assert!(second.wards_created.is_empty());
        assert_eq!(second.accounts, first.accounts);
        assert_eq!(
            store.audit_trail(None, None, 100_000).await.unwrap().len(),
            audit
        );
        assert_eq!(store.all_units().await.unwrap().len(), units);
        assert_eq!(store.list_users(None).await.unwrap().len(), users);
        let lt = ward(&store, LACH_TRAY).await;
        assert_eq!(people(&store, lt, PeopleFilter::default()).await.len(), 24);
    }

    #[test]
    fn plans_are_the_same_every_time() {
        let people_of = |plan: WardPlan| -> Vec<String> {
            plan.people
                .iter()
                .map(|p| format!("{} {:?}", p.input.full_name.as_str(), p.input.citizen_id))
                .collect()
        };
        assert_eq!(
            people_of(plan_lach_tray().unwrap()),
            people_of(plan_lach_tray().unwrap())
        );
        assert_eq!(
            people_of(plan_du_hang_kenh().unwrap()),
            people_of(plan_du_hang_kenh().unwrap())
        );
    }

    #[test]
    fn plans_keep_the_sources_numbers() {
        let dhk = plan_du_hang_kenh().unwrap();
        assert_eq!(
            dhk.groups
                .iter()
                .map(|g| g.households.unwrap())
                .sum::<i64>(),
            8480
        );
        assert_eq!(
            dhk.groups.iter().map(|g| g.residents.unwrap()).sum::<i64>(),
            29628
        );
        for g in &dhk.groups {
            let per_household = g.residents.unwrap() as f64 / g.households.unwrap() as f64;
            assert!((3.0..4.0).contains(&per_household), "{per_household}");
        }
        let lt = plan_lach_tray().unwrap();
        assert_eq!(lt.groups.len(), 7);
        assert_eq!(lt.people.iter().filter(|p| p.team.is_some()).count(), 21);
        // Ages: team members 25–65 on the launch day, veterans 55–75.
        let age =
            |p: &PlannedPerson, on: NaiveDate| on.years_since(p.input.birth_date.unwrap()).unwrap();
        assert!(
            lt.people
                .iter()
                .filter(|p| p.team.is_some())
                .all(|p| (25..=65).contains(&age(p, date(2024, 8, 19))))
        );
        assert!(
            dhk.people
                .iter()
                .filter(|p| p.in_force)
                .all(|p| (55..=75).contains(&age(p, date(2023, 10, 19))))
        );
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
    }

    #[test]
    fn account_texts_are_translated_and_nfc() {
        for spec in ACCOUNTS {
            assert!(
                TEXTS.iter().any(|(vi, _)| *vi == spec.note),
                "no English for {}",
                spec.note
            );
        }
        for (vi, en) in TEXTS {
            assert!(unicode_normalization::is_nfc(vi) && unicode_normalization::is_nfc(en));
        }
        for s in [
            LT_NOTES,
            LT_RISKS,
            DHK_NOTES,
            DHK_RISKS,
            VETERAN_NOTES,
            TRAINING,
            EQUIPMENT,
        ] {
            assert!(unicode_normalization::is_nfc(s));
        }
    }
}
