//! The ward's forces: security team members, partner-force volunteers and ward police,
//! matched by citizen ID, else by name and date of birth.

use std::collections::{HashMap, HashSet};

use super::layout::{ARCHIVED, Col, Lookup, NO_GROUP, Seen, Sheet, exact_key, ordered};
use super::sites::{group_lookup, groups_of};
use super::write::Out;
use super::{Plan, Registry, RowError, tick};
use crate::domain::{CitizenId, PersonKind, Phone, TeamRole};
use crate::store::forces::{PartnerForce, PeopleFilter, Person, PersonInput, Team};
use crate::store::territory::Unit;
use crate::store::{Store, StoreResult, Write};

const NEED_TEAM: &str = "Thành viên Tổ bảo vệ ANTT phải ghi tên tổ bảo vệ.";
const NEED_FORCE: &str = "Tình nguyện viên phải ghi tên lực lượng phối hợp.";
const ONLY_MEMBERS: &str = "Chỉ thành viên Tổ bảo vệ ANTT mới ghi tổ bảo vệ và chức danh trong tổ.";
const ONLY_VOLUNTEERS: &str = "Chỉ tình nguyện viên mới ghi lực lượng phối hợp.";

pub(super) struct Data {
    teams: Vec<Team>,
    forces: Vec<PartnerForce>,
    groups: Vec<Unit>,
    /// Archived ones too: a citizen ID stays taken while its record is archived.
    people: Vec<Person>,
}

impl Data {
    pub async fn load(store: &dyn Store, ward: &Unit) -> StoreResult<Self> {
        let all = PeopleFilter {
            include_archived: true,
            ..PeopleFilter::default()
        };
        Ok(Data {
            teams: store.teams(ward.id, false).await?,
            forces: store.forces(ward.id).await?,
            groups: groups_of(store, ward).await?,
            people: store.people(ward.id, &all).await?,
        })
    }
}

/// Excel drops the leading zero of a number typed into a number cell (0912… → 912…);
/// citizen IDs and phone numbers always start with 0, so put it back.
fn restore_zero(s: &str, lengths: &[usize]) -> String {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
    if all_digits && !digits.starts_with('0') && lengths.contains(&(digits.len() + 1)) {
        format!("0{digits}")
    } else {
        s.to_string()
    }
}

fn is_head(role: Option<TeamRole>) -> bool {
    matches!(role, Some(TeamRole::Leader | TeamRole::Deputy))
}

fn head_taken(role: Option<TeamRole>) -> &'static str {
    match role {
        Some(TeamRole::Deputy) => "Tổ bảo vệ này đã có tổ phó.",
        _ => "Tổ bảo vệ này đã có tổ trưởng.",
    }
}

/// A checked row waiting for the checks that need the whole file.
struct Planned<'a> {
    line: usize,
    existing: Option<&'a Person>,
    input: PersonInput,
}

pub(super) fn plan(
    ward: &Unit,
    data: &Data,
    sheet: &Sheet,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Plan, Vec<RowError>> {
    let teams = Lookup::new(data.teams.iter().map(|t| (t.name.as_str(), t.id)));
    let forces = Lookup::new(data.forces.iter().map(|f| (f.name.as_str(), f.id)));
    let groups = group_lookup(&data.groups);
    let by_citizen_id: HashMap<&str, &Person> = data
        .people
        .iter()
        .filter_map(|p| Some((p.citizen_id.as_deref()?, p)))
        .collect();
    let mut by_name: HashMap<String, Vec<&Person>> = HashMap::new();
    for p in data.people.iter().filter(|p| p.archived_at.is_none()) {
        by_name.entry(exact_key(&p.full_name)).or_default().push(p);
    }
    let mut errors = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    let (mut citizen_ids, mut targets, mut names, mut heads) = (
        Seen::default(),
        Seen::default(),
        Seen::default(),
        Seen::default(),
    );
    let total = sheet.rows.len();
    for (i, row) in sheet.rows.iter().enumerate() {
        let mut r = sheet.check(row);
        let name = r.name(Col::FullName);
        let citizen_id = r.parse(Col::CitizenId, |s| {
            CitizenId::parse(&restore_zero(s, &[9, 12]))
        });
        let birth_date = r.date(Col::BirthDate);

        // Who the row is: the citizen ID's holder, else the one person of that name (and
        // date of birth, when given; someone stored without one matches too).
        let mut existing = citizen_id
            .as_ref()
            .and_then(|c| by_citizen_id.get(c.as_str()).copied());
        if existing.is_none()
            && let Some(n) = &name
        {
            let same_name: Vec<&Person> = by_name
                .get(&exact_key(n.as_str()))
                .into_iter()
                .flatten()
                .copied()
                .filter(|p| citizen_id.is_none() || p.citizen_id.is_none())
                .collect();
            let born = |want: Option<_>| -> Vec<&Person> {
                same_name
                    .iter()
                    .copied()
                    .filter(|p| p.birth_date == want)
                    .collect()
            };
            let candidates = match birth_date {
                None => same_name.clone(),
                Some(b) => Some(born(Some(b)))
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| born(None)),
            };
            match candidates.as_slice() {
                [] => {}
                [one] => existing = Some(*one),
                _ => r.fail(
                    Col::FullName,
                    "Có nhiều người cùng họ tên trong phường; hãy ghi số CCCD hoặc ngày sinh để phân biệt.",
                ),
            }
        }
        if existing.is_some_and(|p| p.archived_at.is_some()) {
            r.fail(Col::CitizenId, ARCHIVED);
        }

        let kind = if !r.text(Col::PersonKind).is_empty() {
            r.parse(Col::PersonKind, PersonKind::parse)
        } else if r.has(Col::PersonKind) {
            Some(PersonKind::TeamMember)
        } else {
            Some(existing.map_or(PersonKind::TeamMember, |p| p.kind()))
        };
        let filled = |r: &super::layout::RowCheck<'_>, col: Col| !r.text(col).is_empty();
        let (mut team_id, mut team_role, mut force_id) = (None, None, None);
        match kind {
            Some(PersonKind::TeamMember) => {
                team_id = if filled(&r, Col::Team) {
                    r.reference(
                        Col::Team,
                        &teams,
                        "Không tìm thấy tổ bảo vệ này trong phường.",
                    )
                } else if r.has(Col::Team) {
                    None
                } else {
                    existing.and_then(|p| p.team_id)
                };
                if team_id.is_none() && !filled(&r, Col::Team) {
                    r.fail_with(Col::Team, NEED_TEAM, String::new());
                }
                team_role = if filled(&r, Col::TeamRole) {
                    r.parse(Col::TeamRole, TeamRole::parse)
                } else if r.has(Col::TeamRole) {
                    Some(TeamRole::Member)
                } else {
                    existing
                        .and_then(|p| p.team_role())
                        .or(Some(TeamRole::Member))
                };
                if filled(&r, Col::Force) {
                    r.fail(Col::Force, ONLY_VOLUNTEERS);
                }
            }
            Some(other) => {
                for col in [Col::Team, Col::TeamRole] {
                    if filled(&r, col) {
                        r.fail(col, ONLY_MEMBERS);
                    }
                }
                if other == PersonKind::Volunteer {
                    force_id = if filled(&r, Col::Force) {
                        r.reference(
                            Col::Force,
                            &forces,
                            "Không tìm thấy lực lượng phối hợp này trong phường.",
                        )
                    } else if r.has(Col::Force) {
                        None
                    } else {
                        existing.and_then(|p| p.force_id)
                    };
                    if force_id.is_none() && !filled(&r, Col::Force) {
                        r.fail_with(Col::Force, NEED_FORCE, String::new());
                    }
                } else if filled(&r, Col::Force) {
                    r.fail(Col::Force, ONLY_VOLUNTEERS);
                }
            }
            None => {}
        }

        // An empty personal-data cell keeps what is stored: an export made without
        // personal data can be edited and imported back without erasing it.
        let phone = r.parse(Col::Phone, |s| Phone::parse(&restore_zero(s, &[10, 11])));
        let phone = phone.or_else(|| existing.and_then(|p| Phone::parse(&p.phone).ok()));
        let stored_id = existing.and_then(|p| p.citizen_id.as_deref());
        let final_citizen_id = citizen_id
            .clone()
            .or_else(|| stored_id.and_then(|c| CitizenId::parse(c).ok()));
        let final_birth_date = birth_date.or_else(|| existing.and_then(|p| p.birth_date));

        let mut text = |col: Col, stored: fn(&Person) -> &String| {
            r.keep(&[col], existing.map(|p| stored(p).clone()), |r| {
                r.free_text(col)
            })
        };
        let address = text(Col::Address, |p| &p.address);
        let rank_title = text(Col::RankTitle, |p| &p.rank_title);
        let training = text(Col::Training, |p| &p.training);
        let equipment = text(Col::Equipment, |p| &p.equipment);
        let notes = text(Col::Notes, |p| &p.notes);
        let group_id = r.keep(&[Col::Group], existing.map(|p| p.group_id), |r| {
            r.reference(Col::Group, &groups, NO_GROUP)
        });
        let joined_on = r.keep(&[Col::JoinedOn], existing.map(|p| p.joined_on), |r| {
            r.date(Col::JoinedOn)
        });

        if let Some(c) = &citizen_id {
            citizen_ids.note(
                &mut r,
                Col::CitizenId,
                c.as_str().to_string(),
                c.as_str(),
                "Trùng số CCCD với một dòng khác trong tệp.",
            );
        }
        if let Some(n) = &name {
            if let Some(p) = existing {
                targets.note(
                    &mut r,
                    Col::FullName,
                    p.id.to_string(),
                    n.as_str(),
                    "Dòng này chỉ cùng một người với một dòng khác trong tệp.",
                );
            }
            if citizen_id.is_none() {
                let key = format!("{}|{:?}", exact_key(n.as_str()), birth_date);
                names.note(
                    &mut r,
                    Col::FullName,
                    key,
                    n.as_str(),
                    "Trùng họ tên (và ngày sinh) với một dòng khác trong tệp; nếu là hai người khác nhau, hãy ghi số CCCD.",
                );
            }
            if let (Some(t), true) = (team_id, is_head(team_role)) {
                heads.note(
                    &mut r,
                    Col::TeamRole,
                    format!("{t}|{team_role:?}"),
                    n.as_str(),
                    head_taken(team_role),
                );
            }
        }
        tick(progress, i + 1, total);
        let (Some(full_name), Some(kind), true) = (name, kind, r.ok()) else {
            errors.append(&mut r.errors);
            continue;
        };
        let input = PersonInput {
            ward_id: ward.id,
            kind,
            team_id,
            team_role,
            force_id,
            full_name,
            phone,
            birth_date: final_birth_date,
            citizen_id: final_citizen_id,
            address,
            group_id,
            rank_title,
            training,
            equipment,
            joined_on,
            notes,
        };
        planned.push(Planned {
            line: row.line,
            existing,
            input,
        });
    }

    // A leader or deputy already stored stays in place unless this file moves them.
    let moved: HashSet<i64> = planned
        .iter()
        .filter_map(|p| p.existing.map(|e| e.id))
        .collect();
    for p in planned.iter().filter(|p| is_head(p.input.team_role)) {
        let holder = data.people.iter().find(|s| {
            s.archived_at.is_none()
                && !moved.contains(&s.id)
                && s.team_id == p.input.team_id
                && s.team_role() == p.input.team_role
        });
        if let Some(holder) = holder {
            errors.push(RowError {
                line: p.line,
                column: sheet.header(Col::TeamRole).to_string(),
                message: head_taken(p.input.team_role),
                value: super::layout::shorten(&holder.full_name, 60),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(order(planned))
}

/// The store allows one leader and one deputy per team at every step of the batch, so
/// members go first, then anyone leaving a head role for another is made a member for a
/// moment, then the heads are written.
fn order(planned: Vec<Planned>) -> Plan {
    let mut plan = Plan::default();
    let (heads, others): (Vec<_>, Vec<_>) = planned
        .into_iter()
        .partition(|p| is_head(p.input.team_role));
    for p in others.iter().chain(&heads) {
        match p.existing {
            Some(_) => plan.updated += 1,
            None => plan.created += 1,
        }
    }
    for p in others {
        plan.push(p.line, Write::Person(p.existing.map(|e| e.id), p.input));
    }
    for p in &heads {
        if let Some(e) = p.existing
            && e.archived_at.is_none()
            && is_head(e.team_role())
            && (e.team_id, e.team_role()) != (p.input.team_id, p.input.team_role)
        {
            let mut step = p.input.clone();
            step.team_role = Some(TeamRole::Member);
            plan.push(p.line, Write::Person(Some(e.id), step));
        }
    }
    for p in heads {
        plan.push(p.line, Write::Person(p.existing.map(|e| e.id), p.input));
    }
    plan
}

pub(super) async fn export(
    store: &dyn Store,
    ward: &Unit,
    personal_data: bool,
) -> anyhow::Result<Vec<Vec<Out>>> {
    let people = store.people(ward.id, &PeopleFilter::default()).await?;
    let teams: HashMap<i64, String> = store
        .teams(ward.id, true)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let forces: HashMap<i64, String> = store
        .forces(ward.id)
        .await?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let groups: HashMap<i64, String> = store
        .units_of_ward(ward.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let name_of = |map: &HashMap<i64, String>, id: Option<i64>| -> Out {
        id.and_then(|i| map.get(&i)).cloned().into()
    };
    Ok(people
        .into_iter()
        .map(|p| {
            let mut cells = vec![
                (Col::PersonKind, p.kind().label().into()),
                (Col::Team, name_of(&teams, p.team_id)),
                (
                    Col::TeamRole,
                    p.team_role().map(|r| r.label().to_string()).into(),
                ),
                (Col::Force, name_of(&forces, p.force_id)),
                (Col::Group, name_of(&groups, p.group_id)),
                (Col::JoinedOn, p.joined_on.into()),
            ];
            if personal_data {
                cells.push((Col::BirthDate, p.birth_date.into()));
                cells.push((Col::CitizenId, p.citizen_id.into()));
                cells.push((Col::Phone, p.phone.into()));
            }
            cells.extend([
                (Col::FullName, p.full_name.into()),
                (Col::Address, p.address.into()),
                (Col::RankTitle, p.rank_title.into()),
                (Col::Training, p.training.into()),
                (Col::Equipment, p.equipment.into()),
                (Col::Notes, p.notes.into()),
            ]);
            ordered(Registry::People, cells)
        })
        .collect())
}
