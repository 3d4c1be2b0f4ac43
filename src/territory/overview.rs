//! The ward overview: figures, groups, teams, sites and risks, as one caller may see them.

use serde::Serialize;
use utoipa::ToSchema;

use super::service::{groups_of, public_site, public_unit, staffing_rule};
use crate::accounts::policy;
use crate::forces::service::{ForcesView, forces_view};
use crate::http::ctx::Caller;
use crate::http::error::AppError;
use crate::store::Store;
use crate::store::territory::{Site, SiteFilter, Unit};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub households: Option<i64>,
    pub residents: Option<i64>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    pub area_ha: Option<f64>,
    pub founded_year: Option<i64>,
    pub groups: usize,
    pub households: i64,
    pub residents: i64,
    pub teams: usize,
    pub team_members: usize,
    pub understaffed_teams: usize,
    pub partner_forces: usize,
    pub volunteers: usize,
    pub sites: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    #[schema(value_type = Object)]
    pub ward: Unit,
    pub parent: Option<String>,
    pub figures: Figures,
    pub groups: Vec<GroupRow>,
    pub forces: ForcesView,
    #[schema(value_type = Vec<Object>)]
    pub sites: Vec<Site>,
    /// The caller sees the ward's internal notes (risks, police).
    pub internal: bool,
    /// The caller may edit the ward's registries.
    pub can_edit: bool,
}

pub async fn overview(
    store: &dyn Store,
    caller: &Caller,
    ward: Unit,
) -> Result<Overview, AppError> {
    let user = caller.user();
    let internal = policy::can_see_internal(user, ward.id);
    let groups = groups_of(store, ward.id).await?;
    let rule = staffing_rule(store, &ward).await?;
    let forces = forces_view(store, user, &ward, &groups, rule, internal).await?;
    let sites: Vec<Site> = store
        .sites(ward.id, &SiteFilter::default())
        .await?
        .into_iter()
        .map(|s| public_site(s, internal))
        .collect();
    let group_rows: Vec<GroupRow> = groups
        .iter()
        .map(|g| GroupRow {
            id: g.id,
            code: g.code.clone(),
            name: g.name.clone(),
            households: g.households,
            residents: g.residents,
            team: forces
                .teams
                .iter()
                .find(|t| t.group_codes.contains(&g.code))
                .map(|t| t.name.clone()),
        })
        .collect();
    let sum_or = |own: Option<i64>, f: fn(&Unit) -> Option<i64>| {
        if groups.iter().any(|g| f(g).is_some()) {
            groups.iter().filter_map(f).sum()
        } else {
            own.unwrap_or(0)
        }
    };
    let figures = Figures {
        area_ha: ward.area_ha,
        founded_year: ward.founded_year,
        groups: groups.len(),
        households: sum_or(ward.households, |g| g.households),
        residents: sum_or(ward.residents, |g| g.residents),
        teams: forces.teams.len(),
        team_members: forces.members_total,
        understaffed_teams: forces.teams.iter().filter(|t| t.understaffed).count(),
        partner_forces: forces.partner_forces.len(),
        volunteers: forces
            .partner_forces
            .iter()
            .map(|f| f.volunteers.len())
            .sum(),
        sites: sites.len(),
    };
    let parent = match ward.parent_id {
        Some(p) => store.unit(p).await?.map(|u| u.name),
        None => None,
    };
    Ok(Overview {
        can_edit: policy::can_edit_registry(user, ward.id),
        ward: public_unit(ward, internal),
        parent,
        figures,
        groups: group_rows,
        forces,
        sites,
        internal,
    })
}
