//! The ward's sites (apartment buildings, markets, schools, …), matched by name, and
//! their GeoJSON for maps and GIS tools.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::layout::{
    ARCHIVED, Col, EMPTY, Lookup, NO_GROUP, SAME_NAME, Seen, Sheet, exact_key, ordered,
};
use super::write::Out;
use super::{Plan, Registry, RowError, tick};
use crate::domain::{LatLon, SiteKind};
use crate::store::territory::{Site, SiteFilter, SiteInput, Unit};
use crate::store::{Store, StoreResult, Write};

pub(super) struct Data {
    groups: Vec<Unit>,
    /// Archived ones too: the name stays taken while a site is archived.
    sites: Vec<Site>,
}

impl Data {
    pub async fn load(store: &dyn Store, ward: &Unit) -> StoreResult<Self> {
        let all = SiteFilter {
            include_archived: true,
            ..SiteFilter::default()
        };
        Ok(Data {
            groups: groups_of(store, ward).await?,
            sites: store.sites(ward.id, &all).await?,
        })
    }
}

/// The ward's residential groups (and villages) that are in use.
pub(super) async fn groups_of(store: &dyn Store, ward: &Unit) -> StoreResult<Vec<Unit>> {
    let mut units = store.units_of_ward(ward.id).await?;
    units.retain(|u| u.kind().is_grassroots() && u.archived_at.is_none());
    Ok(units)
}

/// Groups are written by name or by code.
pub(super) fn group_lookup(groups: &[Unit]) -> Lookup {
    Lookup::new(
        groups
            .iter()
            .flat_map(|g| [(g.code.as_str(), g.id), (g.name.as_str(), g.id)]),
    )
}

pub(super) fn plan(
    ward: &Unit,
    data: &Data,
    sheet: &Sheet,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Plan, Vec<RowError>> {
    let groups = group_lookup(&data.groups);
    let exact: HashMap<&str, &Site> = data.sites.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut by_key: HashMap<String, Vec<&Site>> = HashMap::new();
    for s in &data.sites {
        by_key.entry(exact_key(&s.name)).or_default().push(s);
    }
    let (mut plan, mut errors, mut names) = (Plan::default(), Vec::new(), Seen::default());
    let total = sheet.rows.len();
    for (i, row) in sheet.rows.iter().enumerate() {
        let mut r = sheet.check(row);
        let name = r.name(Col::SiteName);
        if r.text(Col::SiteKind).is_empty() {
            r.fail(Col::SiteKind, EMPTY);
        }
        let kind = r.parse(Col::SiteKind, SiteKind::parse);
        // The same name, else the one site whose name differs only in letter case.
        let existing = name.as_ref().and_then(|n| {
            exact
                .get(n.as_str())
                .copied()
                .or_else(|| match by_key.get(&exact_key(n.as_str())) {
                    Some(v) if v.len() == 1 => Some(v[0]),
                    _ => None,
                })
        });
        if existing.is_some_and(|s| s.archived_at.is_some()) {
            r.fail(Col::SiteName, ARCHIVED);
        }
        if let Some(n) = &name {
            names.note(
                &mut r,
                Col::SiteName,
                exact_key(n.as_str()),
                n.as_str(),
                SAME_NAME,
            );
        }
        let group_id = r.keep(&[Col::Group], existing.map(|s| s.group_id), |r| {
            r.reference(Col::Group, &groups, NO_GROUP)
        });
        let address = r.keep(&[Col::Address], existing.map(|s| s.address.clone()), |r| {
            r.free_text(Col::Address)
        });
        let stored_position =
            existing.map(|s| s.lat.zip(s.lon).map(|(lat, lon)| LatLon { lat, lon }));
        let position = r.keep(&[Col::Lat, Col::Lon], stored_position, |r| r.position());
        let mut count = |col: Col, stored: fn(&Site) -> Option<i64>| {
            r.keep(&[col], existing.map(stored), |r| r.count(col))
        };
        let floors = count(Col::Floors, |s| s.floors);
        let apartments = count(Col::Apartments, |s| s.apartments);
        let residents = count(Col::Residents, |s| s.residents);
        let foreign_residents = count(Col::ForeignResidents, |s| s.foreign_residents);
        let rooms = count(Col::Rooms, |s| s.rooms);
        let lodgers = count(Col::Lodgers, |s| s.lodgers);
        let visitors = count(Col::Visitors, |s| s.visitors);
        let length_m = count(Col::LengthM, |s| s.length_m);
        let mut text = |col: Col, stored: fn(&Site) -> &String| {
            r.keep(&[col], existing.map(|s| stored(s).clone()), |r| {
                r.free_text(col)
            })
        };
        let schedule = text(Col::Schedule, |s| &s.schedule);
        let risk_notes = text(Col::Risk, |s| &s.risk_notes);
        let notes = text(Col::Notes, |s| &s.notes);
        let in_use_since = r.keep(&[Col::InUseSince], existing.map(|s| s.in_use_since), |r| {
            r.year(Col::InUseSince)
        });
        if let Err((field, e)) =
            crate::territory::service::check_site_figures(floors, residents, foreign_residents)
        {
            let col = if field == "floors" {
                Col::Floors
            } else {
                Col::ForeignResidents
            };
            r.fail(col, e.0);
        }
        tick(progress, i + 1, total);
        let (Some(name), Some(kind), true) = (name, kind, r.ok()) else {
            errors.append(&mut r.errors);
            continue;
        };
        let input = SiteInput {
            ward_id: ward.id,
            group_id,
            parent_site_id: existing.and_then(|s| s.parent_site_id),
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
        };
        match existing {
            Some(_) => plan.updated += 1,
            None => plan.created += 1,
        }
        plan.push(row.line, Write::Site(existing.map(|s| s.id), input));
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

async fn current(store: &dyn Store, ward: &Unit) -> StoreResult<(Vec<Site>, HashMap<i64, Unit>)> {
    let sites = store.sites(ward.id, &SiteFilter::default()).await?;
    let groups = store
        .units_of_ward(ward.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok((sites, groups))
}

pub(super) async fn export(store: &dyn Store, ward: &Unit) -> anyhow::Result<Vec<Vec<Out>>> {
    let (sites, groups) = current(store, ward).await?;
    Ok(sites
        .into_iter()
        .map(|s| {
            let group = s
                .group_id
                .and_then(|g| groups.get(&g))
                .map(|g| g.name.clone());
            let kind = s.kind().label();
            ordered(
                Registry::Sites,
                vec![
                    (Col::SiteName, s.name.into()),
                    (Col::SiteKind, kind.into()),
                    (Col::Group, group.into()),
                    (Col::Address, s.address.into()),
                    (Col::Lat, s.lat.into()),
                    (Col::Lon, s.lon.into()),
                    (Col::Floors, s.floors.into()),
                    (Col::Apartments, s.apartments.into()),
                    (Col::Residents, s.residents.into()),
                    (Col::ForeignResidents, s.foreign_residents.into()),
                    (Col::Rooms, s.rooms.into()),
                    (Col::Lodgers, s.lodgers.into()),
                    (Col::Visitors, s.visitors.into()),
                    (Col::LengthM, s.length_m.into()),
                    (Col::Schedule, s.schedule.into()),
                    (Col::InUseSince, s.in_use_since.into()),
                    (Col::Risk, s.risk_notes.into()),
                    (Col::Notes, s.notes.into()),
                ],
            )
        })
        .collect())
}

/// The figures that describe a site of each kind, by their GeoJSON property names.
fn figures(kind: SiteKind) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "floors",
        "apartments",
        "residents",
        "foreign_residents",
        "rooms",
        "lodgers",
        "visitors",
        "length_m",
        "schedule",
        "in_use_since",
    ];
    match kind {
        SiteKind::ApartmentBuilding => &[
            "floors",
            "apartments",
            "residents",
            "foreign_residents",
            "in_use_since",
        ],
        SiteKind::CollectiveHousing => &["floors", "apartments", "residents", "in_use_since"],
        SiteKind::Lodging => &["rooms", "lodgers", "foreign_residents"],
        SiteKind::School | SiteKind::Venue => &["visitors", "schedule"],
        SiteKind::Market => &["schedule", "visitors"],
        SiteKind::Road => &["length_m"],
        SiteKind::Agency => &["floors", "in_use_since"],
        SiteKind::Other => ALL,
    }
}

fn figure(site: &Site, name: &str) -> Value {
    match name {
        "floors" => json!(site.floors),
        "apartments" => json!(site.apartments),
        "residents" => json!(site.residents),
        "foreign_residents" => json!(site.foreign_residents),
        "rooms" => json!(site.rooms),
        "lodgers" => json!(site.lodgers),
        "visitors" => json!(site.visitors),
        "length_m" => json!(site.length_m),
        "schedule" => json!(site.schedule),
        "in_use_since" => json!(site.in_use_since),
        _ => Value::Null,
    }
}

pub(super) async fn geojson(store: &dyn Store, ward: &Unit) -> anyhow::Result<Value> {
    let (sites, groups) = current(store, ward).await?;
    let features: Vec<Value> = sites
        .iter()
        .filter_map(|s| {
            let (lat, lon) = s.lat.zip(s.lon)?;
            let kind = s.kind();
            let mut properties = json!({
                "id": s.id,
                "name": s.name,
                "kind": kind.as_str(),
                "kind_label": kind.label(),
                "address": s.address,
                "group": s.group_id.and_then(|g| groups.get(&g)).map(|g| g.code.as_str()),
            });
            if let Some(map) = properties.as_object_mut() {
                for name in figures(kind) {
                    map.insert((*name).to_string(), figure(s, name));
                }
            }
            Some(json!({
                "type": "Feature",
                "id": s.id,
                // RFC 7946: longitude first.
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": properties,
            }))
        })
        .collect();
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}
