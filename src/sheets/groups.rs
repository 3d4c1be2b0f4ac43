//! The ward's residential groups (tổ dân phố): one row per group, matched by code (or,
//! without a code, by name), created under the ward.

use std::collections::HashMap;

use super::layout::{ARCHIVED, Col, SAME_NAME, Seen, Sheet, exact_key, ordered};
use super::write::Out;
use super::{Plan, Registry, RowError, tick};
use crate::domain::{Code, LatLon, UnitKind};
use crate::store::territory::{Staffing, Unit, UnitInput};
use crate::store::{Store, StoreResult, Write};
use crate::text;

const TAKEN: &str = "Mã này đã được dùng cho một đơn vị khác.";

pub(super) struct Data {
    /// Every unit of the deployment: a code must be free in all of them.
    units: Vec<Unit>,
}

impl Data {
    pub async fn load(store: &dyn Store, _ward: &Unit) -> StoreResult<Self> {
        Ok(Data {
            units: store.all_units().await?,
        })
    }
}

fn is_group_of(unit: &Unit, ward: &Unit) -> bool {
    unit.ward_id == Some(ward.id) && unit.id != ward.id && unit.kind().is_grassroots()
}

/// "Tổ dân phố số 5" in ward `lach-tray` → `lach-tray-tdp-05`; a name without a number
/// gives the ward's code and the name's slug.
fn default_code(ward: &Unit, name: &str) -> Option<Code> {
    let folded = text::fold(name);
    let last = folded.rsplit(' ').next().unwrap_or_default();
    let code = match last.parse::<u32>() {
        Ok(n) if last.bytes().all(|b| b.is_ascii_digit()) => format!("{}-tdp-{n:02}", ward.code),
        _ => format!("{}-{}", ward.code, text::slug(name)),
    };
    let code: String = code.chars().take(60).collect();
    Code::parse(code.trim_end_matches('-')).ok()
}

pub(super) fn plan(
    ward: &Unit,
    data: &Data,
    sheet: &Sheet,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Plan, Vec<RowError>> {
    let by_code: HashMap<&str, &Unit> = data.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let by_name: HashMap<String, &Unit> = data
        .units
        .iter()
        .filter(|u| is_group_of(u, ward) && u.archived_at.is_none())
        .map(|u| (exact_key(&u.name), u))
        .collect();
    let (mut plan, mut errors) = (Plan::default(), Vec::new());
    let (mut codes, mut names) = (Seen::default(), Seen::default());
    let total = sheet.rows.len();
    for (i, row) in sheet.rows.iter().enumerate() {
        let mut r = sheet.check(row);
        let name = r.name(Col::GroupName);
        let same_name = name
            .as_ref()
            .and_then(|n| by_name.get(&exact_key(n.as_str())));
        let given = !r.text(Col::GroupCode).is_empty();
        // With a code the row is the group of that code; without one, the group of that
        // name, else a new group under a code made from the name.
        let (code, existing) = match (given, same_name) {
            (true, _) => (r.parse(Col::GroupCode, Code::parse), None),
            (false, Some(u)) => (Code::parse(&u.code).ok(), Some(*u)),
            (false, None) => match name.as_ref().map(|n| default_code(ward, n.as_str())) {
                Some(None) => {
                    r.fail(
                        Col::GroupName,
                        "Không tạo được mã từ tên tổ; hãy ghi mã vào cột Mã tổ.",
                    );
                    (None, None)
                }
                made => (made.flatten(), None),
            },
        };
        let col = if given {
            Col::GroupCode
        } else {
            Col::GroupName
        };
        let existing = match code.as_ref().and_then(|c| by_code.get(c.as_str())) {
            _ if existing.is_some() => existing,
            Some(u) if is_group_of(u, ward) && u.archived_at.is_none() => Some(*u),
            Some(u) if is_group_of(u, ward) => {
                r.fail(col, ARCHIVED);
                None
            }
            Some(_) if given => {
                r.fail(col, TAKEN);
                None
            }
            Some(_) => {
                r.fail(
                    col,
                    "Mã tạo từ tên tổ đã được dùng; hãy ghi mã vào cột Mã tổ.",
                );
                None
            }
            None if given && same_name.is_some() => {
                r.fail(
                    col,
                    "Phường đã có tổ dân phố cùng tên với mã khác; hãy sửa mã cho khớp hoặc để trống ô mã.",
                );
                None
            }
            None => None,
        };
        if let Some(c) = &code {
            codes.note(
                &mut r,
                col,
                c.as_str().to_string(),
                c.as_str(),
                "Trùng mã với một dòng khác trong tệp.",
            );
        }
        if let Some(n) = &name {
            names.note(
                &mut r,
                Col::GroupName,
                exact_key(n.as_str()),
                n.as_str(),
                SAME_NAME,
            );
        }
        let households = r.keep(&[Col::Households], existing.map(|u| u.households), |r| {
            r.count(Col::Households)
        });
        let residents = r.keep(&[Col::Residents], existing.map(|u| u.residents), |r| {
            r.count(Col::Residents)
        });
        let stored_position =
            existing.map(|u| u.lat.zip(u.lon).map(|(lat, lon)| LatLon { lat, lon }));
        let position = r.keep(&[Col::Lat, Col::Lon], stored_position, |r| r.position());
        let notes = r.keep(&[Col::Notes], existing.map(|u| u.notes.clone()), |r| {
            r.free_text(Col::Notes)
        });
        if let Err(e) = crate::territory::service::check_unit_figures(households, residents) {
            r.fail(Col::Residents, e.0);
        }
        tick(progress, i + 1, total);
        let (Some(name), Some(code), true) = (name, code, r.ok()) else {
            errors.append(&mut r.errors);
            continue;
        };
        let input = UnitInput {
            // A group kept under a quarter (khu phố) stays there.
            parent_id: existing.map_or(Some(ward.id), |u| u.parent_id),
            kind: existing.map_or(UnitKind::Group, |u| u.kind()),
            code,
            name,
            area_ha: existing.and_then(|u| u.area_ha),
            founded_year: existing.and_then(|u| u.founded_year),
            households,
            residents,
            position,
            risk_notes: existing.map(|u| u.risk_notes.clone()).unwrap_or_default(),
            notes,
            staffing: existing.map_or_else(Staffing::default, |u| Staffing {
                min_members: u.staff_min_members,
                base_residents: u.staff_base_residents,
                step_residents: u.staff_step_residents,
            }),
        };
        match existing {
            Some(_) => plan.updated += 1,
            None => plan.created += 1,
        }
        plan.push(row.line, Write::Unit(existing.map(|u| u.id), input));
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

pub(super) async fn export(store: &dyn Store, ward: &Unit) -> anyhow::Result<Vec<Vec<Out>>> {
    let units = store.units_of_ward(ward.id).await?;
    Ok(units
        .into_iter()
        .filter(|u| u.kind().is_grassroots() && u.archived_at.is_none())
        .map(|u| {
            ordered(
                Registry::Groups,
                vec![
                    (Col::GroupCode, u.code.into()),
                    (Col::GroupName, u.name.into()),
                    (Col::Households, u.households.into()),
                    (Col::Residents, u.residents.into()),
                    (Col::Lat, u.lat.into()),
                    (Col::Lon, u.lon.into()),
                    (Col::Notes, u.notes.into()),
                ],
            )
        })
        .collect())
}
