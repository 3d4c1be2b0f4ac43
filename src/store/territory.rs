//! Administrative units (a tree with no fixed levels) and the sites of a ward.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Actor, StoreResult};
use crate::domain::{Code, LatLon, Name, SiteKind, UnitKind};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Unit {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub ward_id: Option<i64>,
    pub kind: String,
    pub code: String,
    pub name: String,
    #[serde(skip)]
    pub name_folded: String,
    pub area_ha: Option<f64>,
    pub founded_year: Option<i64>,
    pub households: Option<i64>,
    pub residents: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub risk_notes: String,
    pub notes: String,
    pub staff_min_members: Option<i64>,
    pub staff_base_residents: Option<i64>,
    pub staff_step_residents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Unit {
    pub fn kind(&self) -> UnitKind {
        UnitKind::parse(&self.kind).unwrap_or(UnitKind::Quarter)
    }
}

/// The staffing rule a province sets: `min` members up to `base` residents, one more
/// for each further `step` residents (DOMAIN: 3 up to 2,700, +1 per 900).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Staffing {
    pub min_members: Option<i64>,
    pub base_residents: Option<i64>,
    pub step_residents: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitInput {
    pub parent_id: Option<i64>,
    pub kind: UnitKind,
    pub code: Code,
    pub name: Name,
    pub area_ha: Option<f64>,
    pub founded_year: Option<i64>,
    pub households: Option<i64>,
    pub residents: Option<i64>,
    pub position: Option<LatLon>,
    pub risk_notes: String,
    pub notes: String,
    pub staffing: Staffing,
}

/// A ward with the totals of its grassroots units.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct WardSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub groups: i64,
    pub households: Option<i64>,
    pub residents: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Site {
    pub id: i64,
    pub ward_id: i64,
    pub group_id: Option<i64>,
    pub parent_site_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub address: String,
    #[serde(skip)]
    pub search_folded: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub floors: Option<i64>,
    pub apartments: Option<i64>,
    pub residents: Option<i64>,
    pub foreign_residents: Option<i64>,
    pub rooms: Option<i64>,
    pub lodgers: Option<i64>,
    pub visitors: Option<i64>,
    pub length_m: Option<i64>,
    pub schedule: String,
    pub in_use_since: Option<i64>,
    pub risk_notes: String,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Site {
    pub fn kind(&self) -> SiteKind {
        SiteKind::parse(&self.kind).unwrap_or(SiteKind::Other)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteInput {
    pub ward_id: i64,
    pub group_id: Option<i64>,
    pub parent_site_id: Option<i64>,
    pub kind: SiteKind,
    pub name: Name,
    pub address: String,
    pub position: Option<LatLon>,
    pub floors: Option<i64>,
    pub apartments: Option<i64>,
    pub residents: Option<i64>,
    pub foreign_residents: Option<i64>,
    pub rooms: Option<i64>,
    pub lodgers: Option<i64>,
    pub visitors: Option<i64>,
    pub length_m: Option<i64>,
    pub schedule: String,
    pub in_use_since: Option<i64>,
    pub risk_notes: String,
    pub notes: String,
}

impl SiteInput {
    pub fn search_text(&self) -> String {
        crate::text::fold(&format!(
            "{} {} {} {}",
            self.name.as_str(),
            self.address,
            self.kind.label(),
            self.notes
        ))
    }
}

#[derive(Debug, Clone, Default)]
pub struct SiteFilter {
    /// Folded search terms; every one must match.
    pub terms: Vec<String>,
    pub kind: Option<SiteKind>,
    pub group_id: Option<i64>,
    pub include_archived: bool,
}

/// One search result across the registries.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SearchHit {
    pub entity: String,
    pub id: i64,
    pub ward_id: Option<i64>,
    pub title: String,
    pub detail: String,
}

#[async_trait]
pub trait TerritoryStore: Send + Sync {
    async fn create_unit(&self, actor: Actor, input: UnitInput) -> StoreResult<Unit>;
    async fn update_unit(&self, actor: Actor, id: i64, input: UnitInput) -> StoreResult<Unit>;
    async fn set_unit_archived(&self, actor: Actor, id: i64, archived: bool) -> StoreResult<()>;
    async fn unit(&self, id: i64) -> StoreResult<Option<Unit>>;
    async fn unit_by_code(&self, code: &str) -> StoreResult<Option<Unit>>;
    /// Every unit, archived ones included, ordered for a tree walk.
    async fn all_units(&self) -> StoreResult<Vec<Unit>>;
    /// The units below a ward (not the ward itself).
    async fn units_of_ward(&self, ward_id: i64) -> StoreResult<Vec<Unit>>;
    async fn wards(&self) -> StoreResult<Vec<WardSummary>>;

    async fn create_site(&self, actor: Actor, input: SiteInput) -> StoreResult<Site>;
    async fn update_site(&self, actor: Actor, id: i64, input: SiteInput) -> StoreResult<Site>;
    async fn set_site_archived(&self, actor: Actor, id: i64, archived: bool) -> StoreResult<()>;
    async fn site(&self, id: i64) -> StoreResult<Option<Site>>;
    async fn sites(&self, ward_id: i64, filter: &SiteFilter) -> StoreResult<Vec<Site>>;

    /// Search names across units, sites and (when `people` is set) the forces.
    async fn search(
        &self,
        ward_id: Option<i64>,
        terms: &[String],
        people: bool,
        limit: i64,
    ) -> StoreResult<Vec<SearchHit>>;
}

/// Appends `AND col LIKE $n ESCAPE '\'` for each term, numbering from `first`.
pub(crate) fn like_clauses(column: &str, terms: &[String], first: usize) -> String {
    terms
        .iter()
        .enumerate()
        .map(|(i, _)| format!(" AND {column} LIKE ${} ESCAPE '\\'", first + i))
        .collect()
}

macro_rules! impl_territory_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn write_unit_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                id: Option<i64>,
                input: &$crate::store::territory::UnitInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Unit> {
                use $crate::store::StoreError;
                let now = chrono::Utc::now();
                // A ward owns itself; lower units belong to their parent's ward.
                let parent_ward: Option<i64> = match input.parent_id {
                    Some(p) => sqlx::query_scalar::<_, Option<i64>>(
                        "SELECT ward_id FROM units WHERE id = $1",
                    )
                    .bind(p)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::Reference)?,
                    None => None,
                };
                let folded = $crate::text::fold(input.name.as_str());
                let (lat, lon) = input.position.map(|p| (p.lat, p.lon)).unzip();
                let q = match id {
                    None => sqlx::query_scalar::<_, i64>(
                        "INSERT INTO units (parent_id, ward_id, kind, code, name, name_folded, \
                         area_ha, founded_year, households, residents, lat, lon, risk_notes, notes, \
                         staff_min_members, staff_base_residents, staff_step_residents, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                         $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id",
                    ),
                    Some(_) => sqlx::query_scalar::<_, i64>(
                        "UPDATE units SET parent_id = $1, ward_id = $2, kind = $3, code = $4, \
                         name = $5, name_folded = $6, area_ha = $7, founded_year = $8, \
                         households = $9, residents = $10, lat = $11, lon = $12, \
                         risk_notes = $13, notes = $14, staff_min_members = $15, \
                         staff_base_residents = $16, staff_step_residents = $17, \
                         updated_at = $18 WHERE id = $19 RETURNING id",
                    ),
                };
                let q = q
                    .bind(input.parent_id)
                    .bind(parent_ward)
                    .bind(input.kind.as_str())
                    .bind(input.code.as_str())
                    .bind(input.name.as_str())
                    .bind(&folded)
                    .bind(input.area_ha)
                    .bind(input.founded_year)
                    .bind(input.households)
                    .bind(input.residents)
                    .bind(lat)
                    .bind(lon)
                    .bind(&input.risk_notes)
                    .bind(&input.notes)
                    .bind(input.staffing.min_members)
                    .bind(input.staffing.base_residents)
                    .bind(input.staffing.step_residents)
                    .bind(now);
                let q = match id {
                    Some(id) => q.bind(id),
                    None => q,
                };
                let new_id = q
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                if input.kind.is_ward() {
                    sqlx::query("UPDATE units SET ward_id = id WHERE id = $1")
                        .bind(new_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                }
                let unit: $crate::store::territory::Unit =
                    sqlx::query_as("SELECT * FROM units WHERE id = $1")
                        .bind(new_id)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                let action = if id.is_some() { "update" } else { "create" };
                Self::audit_tx(
                    tx,
                    actor,
                    unit.ward_id,
                    "unit",
                    Some(unit.id),
                    action,
                    serde_json::to_string(input).unwrap_or_default(),
                )
                .await?;
                Ok(unit)
            }

            async fn write_site_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: $crate::store::Actor,
                id: Option<i64>,
                input: &$crate::store::territory::SiteInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Site> {
                use $crate::store::StoreError;
                let (lat, lon) = input.position.map(|p| (p.lat, p.lon)).unzip();
                let q = match id {
                    None => sqlx::query_as::<_, $crate::store::territory::Site>(
                        "INSERT INTO sites (ward_id, group_id, parent_site_id, kind, name, address, \
                         search_folded, lat, lon, floors, apartments, residents, foreign_residents, \
                         rooms, lodgers, visitors, length_m, schedule, in_use_since, risk_notes, \
                         notes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
                         $22) RETURNING *",
                    ),
                    Some(_) => sqlx::query_as::<_, $crate::store::territory::Site>(
                        "UPDATE sites SET ward_id = $1, group_id = $2, parent_site_id = $3, \
                         kind = $4, name = $5, address = $6, search_folded = $7, lat = $8, \
                         lon = $9, floors = $10, apartments = $11, residents = $12, \
                         foreign_residents = $13, rooms = $14, lodgers = $15, visitors = $16, \
                         length_m = $17, schedule = $18, in_use_since = $19, risk_notes = $20, \
                         notes = $21, updated_at = $22 WHERE id = $23 AND ward_id = $1 \
                         RETURNING *",
                    ),
                };
                let q = q
                    .bind(input.ward_id)
                    .bind(input.group_id)
                    .bind(input.parent_site_id)
                    .bind(input.kind.as_str())
                    .bind(input.name.as_str())
                    .bind(&input.address)
                    .bind(input.search_text())
                    .bind(lat)
                    .bind(lon)
                    .bind(input.floors)
                    .bind(input.apartments)
                    .bind(input.residents)
                    .bind(input.foreign_residents)
                    .bind(input.rooms)
                    .bind(input.lodgers)
                    .bind(input.visitors)
                    .bind(input.length_m)
                    .bind(&input.schedule)
                    .bind(input.in_use_since)
                    .bind(&input.risk_notes)
                    .bind(&input.notes)
                    .bind(chrono::Utc::now());
                let q = match id {
                    Some(id) => q.bind(id),
                    None => q,
                };
                let site = q
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::from_sqlx)?
                    .ok_or(StoreError::NotFound)?;
                let action = if id.is_some() { "update" } else { "create" };
                Self::audit_tx(
                    tx,
                    actor,
                    Some(site.ward_id),
                    "site",
                    Some(site.id),
                    action,
                    serde_json::to_string(input).unwrap_or_default(),
                )
                .await?;
                Ok(site)
            }

            async fn set_archived_tx(
                &self,
                actor: $crate::store::Actor,
                table: &'static str,
                id: i64,
                archived: bool,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let mut tx = self.begin_tx().await.map_err(StoreError::from_sqlx)?;
                let when = archived.then(chrono::Utc::now);
                // `table` is one of our own constants, never user input.
                let ward: Option<Option<i64>> = sqlx::query_scalar(&format!(
                    "UPDATE {table} SET archived_at = $1, updated_at = $2 WHERE id = $3 \
                     RETURNING ward_id"
                ))
                .bind(when)
                .bind(chrono::Utc::now())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                let ward = ward.ok_or(StoreError::NotFound)?;
                let entity = match table {
                    "people" => "person",
                    "partner_forces" => "force",
                    t => t.trim_end_matches('s'),
                };
                let action = if archived { "archive" } else { "restore" };
                Self::audit_tx(&mut tx, actor, ward, entity, Some(id), action, String::new()).await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::territory::TerritoryStore for $store {
            async fn create_unit(
                &self,
                actor: $crate::store::Actor,
                input: $crate::store::territory::UnitInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Unit> {
                let unit = $crate::store::in_tx!(self, tx => Self::write_unit_tx(&mut tx, actor, None, &input).await?);
                self.caches.units.forget_all();
                self.tell_peers_to_forget().await;
                unit
            }

            async fn update_unit(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                input: $crate::store::territory::UnitInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Unit> {
                let unit = $crate::store::in_tx!(self, tx => Self::write_unit_tx(&mut tx, actor, Some(id), &input).await?);
                self.caches.units.forget_all();
                self.tell_peers_to_forget().await;
                unit
            }

            async fn set_unit_archived(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                archived: bool,
            ) -> $crate::store::StoreResult<()> {
                let done = self.set_archived_tx(actor, "units", id, archived).await;
                self.caches.units.forget_all();
                self.tell_peers_to_forget().await;
                done
            }

            async fn unit(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::territory::Unit>> {
                self.caches
                    .units
                    .get_or_read(&format!("id:{id}"), |_| true, || {
                        sqlx::query_as("SELECT * FROM units WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                    })
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn unit_by_code(
                &self,
                code: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::territory::Unit>> {
                self.caches
                    .units
                    .get_or_read(&format!("code:{code}"), |_| true, || {
                        sqlx::query_as("SELECT * FROM units WHERE code = $1")
                            .bind(code)
                            .fetch_optional(&self.pool)
                    })
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn all_units(
                &self,
            ) -> $crate::store::StoreResult<Vec<$crate::store::territory::Unit>> {
                sqlx::query_as("SELECT * FROM units ORDER BY parent_id, code")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn units_of_ward(
                &self,
                ward_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::territory::Unit>> {
                sqlx::query_as("SELECT * FROM units WHERE ward_id = $1 AND id <> $1 ORDER BY code")
                    .bind(ward_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn wards(
                &self,
            ) -> $crate::store::StoreResult<Vec<$crate::store::territory::WardSummary>> {
                sqlx::query_as(
                    "SELECT w.id, w.code, w.name, w.kind, w.parent_id, \
                     COUNT(g.id) AS groups, \
                     COALESCE(CAST(SUM(g.households) AS BIGINT), w.households) AS households, \
                     COALESCE(CAST(SUM(g.residents) AS BIGINT), w.residents) AS residents \
                     FROM units w LEFT JOIN units g ON g.ward_id = w.id AND g.id <> w.id \
                     AND g.kind IN ('group', 'village') AND g.archived_at IS NULL \
                     WHERE w.kind IN ('ward', 'commune', 'special_zone') AND w.archived_at IS NULL \
                     GROUP BY w.id, w.code, w.name, w.kind, w.parent_id, w.households, w.residents \
                     ORDER BY w.name",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn create_site(
                &self,
                actor: $crate::store::Actor,
                input: $crate::store::territory::SiteInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Site> {
                $crate::store::in_tx!(self, tx => Self::write_site_tx(&mut tx, actor, None, &input).await?)
            }

            async fn update_site(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                input: $crate::store::territory::SiteInput,
            ) -> $crate::store::StoreResult<$crate::store::territory::Site> {
                $crate::store::in_tx!(self, tx => Self::write_site_tx(&mut tx, actor, Some(id), &input).await?)
            }

            async fn set_site_archived(
                &self,
                actor: $crate::store::Actor,
                id: i64,
                archived: bool,
            ) -> $crate::store::StoreResult<()> {
                self.set_archived_tx(actor, "sites", id, archived).await
            }

            async fn site(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::territory::Site>> {
                sqlx::query_as("SELECT * FROM sites WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn sites(
                &self,
                ward_id: i64,
                filter: &$crate::store::territory::SiteFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::store::territory::Site>> {
                let sql = format!(
                    "SELECT * FROM sites WHERE ward_id = $1 AND ($2 IS NULL OR kind = $2) \
                     AND ($3 IS NULL OR group_id = $3) AND ($4 OR archived_at IS NULL){} \
                     ORDER BY kind, name",
                    $crate::store::territory::like_clauses("search_folded", &filter.terms, 5)
                );
                let mut q = sqlx::query_as(&sql)
                    .bind(ward_id)
                    .bind(filter.kind.map(|k| k.as_str()))
                    .bind(filter.group_id)
                    .bind(filter.include_archived);
                for t in &filter.terms {
                    q = q.bind($crate::text::like_pattern(t));
                }
                q.fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)
            }

            async fn search(
                &self,
                ward_id: Option<i64>,
                terms: &[String],
                people: bool,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::territory::SearchHit>> {
                use $crate::store::territory::like_clauses;
                let n = terms.len();
                let people_part = if people {
                    format!(
                        " UNION ALL SELECT 'person' AS entity, id, ward_id, full_name AS title, \
                         kind AS detail FROM people WHERE archived_at IS NULL \
                         AND ($1 IS NULL OR ward_id = $1){}",
                        like_clauses("search_folded", terms, 3 + 2 * n)
                    )
                } else {
                    String::new()
                };
                let sql = format!(
                    "SELECT * FROM (SELECT 'unit' AS entity, id, ward_id, name AS title, \
                     kind AS detail FROM units WHERE archived_at IS NULL \
                     AND ($1 IS NULL OR ward_id = $1){} \
                     UNION ALL SELECT 'site' AS entity, id, ward_id, name AS title, \
                     kind AS detail FROM sites WHERE archived_at IS NULL \
                     AND ($1 IS NULL OR ward_id = $1){}{}) hits ORDER BY title LIMIT $2",
                    like_clauses("name_folded", terms, 3),
                    like_clauses("search_folded", terms, 3 + n),
                    people_part
                );
                let mut q = sqlx::query_as(&sql).bind(ward_id).bind(limit);
                let parts = if people { 3 } else { 2 };
                for _ in 0..parts {
                    for t in terms {
                        q = q.bind($crate::text::like_pattern(t));
                    }
                }
                q.fetch_all(&self.pool).await.map_err($crate::store::StoreError::from_sqlx)
            }
        }
    };
}
pub(crate) use impl_territory_store;
