//! The duty rules that pages and API share: reading a template form, turning templates
//! into a month's shifts, building and changing rosters with every rule checked, check-in
//! distance and signed checkpoint codes.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::recurrence::{DateSpan, Recurrence, RecurrenceInput};
use super::roster::{self, Booking, Conflict, Rules};
use super::{DutyKind, ForceChoice};
use crate::accounts::policy;
use crate::domain::{Invalid, Role};
use crate::http::error::{AppError, FieldError};
use crate::store::accounts::User;
use crate::store::duty::{
    Assignment, DutyRules, Place, RosterShift, Shift, Stop, Template, TemplateInput,
};
use crate::store::forces::{Person, TeamGroup};
use crate::store::{Actor, Store};

/// Vietnam keeps UTC+7 all year (no daylight saving since 1975).
pub fn vn() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

pub fn to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    vn().from_local_datetime(&local)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc)
}

pub fn to_local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&vn()).naive_local()
}

pub fn today() -> NaiveDate {
    to_local(Utc::now()).date()
}

/// A roster month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// "2026-12" or "12/2026"; empty is this month.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let s = input.trim();
        if s.is_empty() {
            let t = today();
            return Ok(Month {
                year: t.year(),
                month: t.month(),
            });
        }
        let bad = Invalid("Tháng phải viết mm/yyyy, ví dụ 12/2026.");
        let (y, m) = match (s.split_once('-'), s.split_once('/')) {
            (Some((y, m)), _) => (y, m),
            (None, Some((m, y))) => (y, m),
            _ => return Err(bad),
        };
        let (year, month) = (
            y.parse::<i32>().map_err(|_| bad)?,
            m.parse::<u32>().map_err(|_| bad)?,
        );
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad);
        }
        Ok(Month { year, month })
    }
    pub fn first(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
    pub fn last(self) -> NaiveDate {
        self.next().first() - Duration::days(1)
    }
    /// The instants the month's shifts start between.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            to_utc(self.first().and_time(NaiveTime::MIN)),
            to_utc(self.next().first().and_time(NaiveTime::MIN)),
        )
    }
    /// "2026-12", as stored.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
    /// "12/2026", as shown.
    pub fn label(self) -> String {
        format!("{:02}/{:04}", self.month, self.year)
    }
}

pub fn parse_time(input: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(input.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(input.trim(), "%H:%M:%S"))
        .ok()
}

/// A template form as people type it (page or JSON).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct TemplateForm {
    pub ward: String,
    /// patrol, checkpoint, traffic_post, market_session, fire_watch, event_security
    pub kind: String,
    pub title: String,
    /// A duty place of the ward (id), or empty.
    pub place: String,
    /// "team:ID", "partner:ID" or "police".
    pub force: String,
    pub needed: String,
    /// HH:MM, local time; an end before the start ends the next day.
    pub start_time: String,
    pub end_time: String,
    /// dd/mm/yyyy
    pub starts_on: String,
    pub ends_on: String,
    /// An RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=SU
    pub rule: String,
    /// Lunar days, e.g. "1,15"
    pub lunar_days: String,
    pub lunar_months: String,
    /// Exception days and ranges: "01/06/2027-31/08/2027, 02/09/2027"
    pub except_dates: String,
    pub skip_tet: bool,
    pub extra_dates: String,
    pub notes: String,
}

fn err(field: &str, message: &'static str) -> FieldError {
    FieldError {
        field: field.to_string(),
        message,
    }
}

/// Check a template form against the ward's places, teams and forces.
pub fn parse_template(
    form: &TemplateForm,
    ward_id: i64,
    places: &[Place],
    teams: &[i64],
    forces: &[i64],
) -> Result<(TemplateInput, Recurrence), AppError> {
    let mut errors = Vec::new();
    let kind = DutyKind::parse(&form.kind)
        .map_err(|e| errors.push(err("kind", e.0)))
        .ok();
    let title = crate::text::clean(&form.title);
    if title.is_empty() {
        errors.push(err("title", "Cần tên ca trực."));
    } else if crate::text::graphemes_over(&title, 200) {
        errors.push(err("title", "Tên ca trực dài quá 200 ký tự."));
    }
    let place_id = match form.place.trim() {
        "" => None,
        p => match p
            .parse::<i64>()
            .ok()
            .filter(|id| places.iter().any(|pl| pl.id == *id))
        {
            Some(id) => Some(id),
            None => {
                errors.push(err("place", "Không có điểm trực này trong phường."));
                None
            }
        },
    };
    let force = ForceChoice::parse(&form.force, teams, forces)
        .map_err(|e| errors.push(err("force", e.0)))
        .ok();
    let needed = match form.needed.trim().parse::<i64>() {
        Ok(n) if (1..=50).contains(&n) => n,
        _ => {
            errors.push(err("needed", "Số người cần là một số từ 1 đến 50."));
            0
        }
    };
    let start = parse_time(&form.start_time);
    let end = parse_time(&form.end_time);
    if start.is_none() {
        errors.push(err(
            "start_time",
            "Giờ bắt đầu phải viết HH:MM, ví dụ 05:30.",
        ));
    }
    if end.is_none() {
        errors.push(err(
            "end_time",
            "Giờ kết thúc phải viết HH:MM, ví dụ 11:00.",
        ));
    }
    if let (Some(s), Some(e)) = (start, end) {
        if s == e {
            errors.push(err("end_time", "Giờ kết thúc phải khác giờ bắt đầu."));
        } else if duration(s, e) > Duration::hours(16) {
            errors.push(err(
                "end_time",
                "Một ca trực không dài quá 16 giờ; hãy chia thành nhiều ca.",
            ));
        }
    }
    let starts_on = crate::domain::parse_date(&form.starts_on)
        .map_err(|e| errors.push(err("starts_on", e.0)))
        .ok()
        .flatten();
    let ends_on = crate::domain::parse_date(&form.ends_on)
        .map_err(|e| errors.push(err("ends_on", e.0)))
        .ok()
        .flatten();
    let input = RecurrenceInput {
        starts_on,
        until: ends_on,
        start_time: start,
        rule: &form.rule,
        lunar_days: &form.lunar_days,
        lunar_months: &form.lunar_months,
        except: &form.except_dates,
        skip_tet: form.skip_tet,
        extra: &form.extra_dates,
    };
    let recurrence = if starts_on.is_some() {
        Recurrence::parse(&input)
            .map_err(|es| {
                errors.extend(es.into_iter().map(|(f, e)| {
                    err(
                        if f == "until" {
                            "ends_on"
                        } else if f == "except" {
                            "except_dates"
                        } else if f == "extra" {
                            "extra_dates"
                        } else {
                            f
                        },
                        e.0,
                    )
                }))
            })
            .ok()
    } else {
        errors.push(err("starts_on", "Cần ngày bắt đầu."));
        None
    };
    let notes = crate::text::clean_multiline(&form.notes);
    if crate::text::graphemes_over(&notes, 2000) {
        errors.push(err("notes", "Ghi chú dài quá 2000 ký tự."));
    }
    let (Some(kind), Some(force), Some(start), Some(end), Some(starts_on), Some(rec), true) = (
        kind,
        force,
        start,
        end,
        starts_on,
        recurrence,
        errors.is_empty(),
    ) else {
        return Err(AppError::Validation(errors));
    };
    let (force_kind, team_id, force_id) = force.columns();
    let input = TemplateInput {
        ward_id,
        kind: kind.as_str().to_string(),
        title,
        place_id,
        force_kind: force_kind.to_string(),
        team_id,
        force_id,
        needed,
        start_time: start.format("%H:%M").to_string(),
        end_time: end.format("%H:%M").to_string(),
        starts_on,
        ends_on,
        rule: rec.rule_text().unwrap_or_default().to_string(),
        lunar_days: form.lunar_days.trim().to_string(),
        lunar_months: form.lunar_months.trim().to_string(),
        except_dates: rec
            .except
            .iter()
            .map(DateSpan::format)
            .collect::<Vec<_>>()
            .join(", "),
        skip_tet: form.skip_tet,
        extra_dates: rec
            .extra
            .iter()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .collect::<Vec<_>>()
            .join(", "),
        notes,
    };
    Ok((input, rec))
}

fn duration(start: NaiveTime, end: NaiveTime) -> Duration {
    let d = end - start;
    if d <= Duration::zero() {
        d + Duration::days(1)
    } else {
        d
    }
}

/// The form that edits `t`.
pub fn template_form(t: &Template, ward_code: &str) -> TemplateForm {
    TemplateForm {
        ward: ward_code.to_string(),
        kind: t.kind.clone(),
        title: t.title.clone(),
        place: t.place_id.map(|p| p.to_string()).unwrap_or_default(),
        force: match (t.force_kind.as_str(), t.team_id, t.force_id) {
            ("team", Some(id), _) => format!("team:{id}"),
            ("partner", _, Some(id)) => format!("partner:{id}"),
            _ => "police".into(),
        },
        needed: t.needed.to_string(),
        start_time: t.start_time.clone(),
        end_time: t.end_time.clone(),
        starts_on: t.starts_on.format("%d/%m/%Y").to_string(),
        ends_on: crate::domain::format_date(t.ends_on),
        rule: t.rule.clone(),
        lunar_days: t.lunar_days.clone(),
        lunar_months: t.lunar_months.clone(),
        except_dates: t.except_dates.clone(),
        skip_tet: t.skip_tet,
        extra_dates: t.extra_dates.clone(),
        notes: t.notes.clone(),
    }
}

/// The recurrence of a stored template (checked when it was saved).
pub fn recurrence_of(t: &Template) -> Option<Recurrence> {
    Recurrence::parse(&RecurrenceInput {
        starts_on: Some(t.starts_on),
        until: t.ends_on,
        start_time: parse_time(&t.start_time),
        rule: &t.rule,
        lunar_days: &t.lunar_days,
        lunar_months: &t.lunar_months,
        except: &t.except_dates,
        skip_tet: t.skip_tet,
        extra: &t.extra_dates,
    })
    .map_err(|e| tracing::warn!(template = t.id, ?e, "stored duty rule no longer parses"))
    .ok()
}

/// The local start and end of each occurrence of `t` starting in `from..=to`.
pub fn occurrences(
    t: &Template,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let (Some(rec), Some(s), Some(e)) = (
        recurrence_of(t),
        parse_time(&t.start_time),
        parse_time(&t.end_time),
    ) else {
        return Vec::new();
    };
    rec.dates(from, to)
        .into_iter()
        .map(|d| {
            let start = d.and_time(s);
            (start, start + duration(s, e))
        })
        .collect()
}

/// Who may take a template's shifts.
pub fn eligible(t: &Template, people: &[Person]) -> Vec<i64> {
    people
        .iter()
        .filter(|p| p.archived_at.is_none())
        .filter(|p| match t.force_kind.as_str() {
            "team" => p.team_id.is_some() && p.team_id == t.team_id,
            "partner" => p.force_id.is_some() && p.force_id == t.force_id,
            _ => p.kind == "officer",
        })
        .map(|p| p.id)
        .collect()
}

/// What a roster build or change needs to know about a ward's month.
pub struct MonthData {
    pub month: Month,
    pub rules: DutyRules,
    pub templates: Vec<Template>,
    pub people: Vec<Person>,
    /// The roster's view of each person (availability and leave).
    pub availability: Vec<roster::Person>,
    /// The month's shifts with the day before and after (for rest and overlap rules).
    pub shifts: Vec<Shift>,
    pub assignments: Vec<Assignment>,
}

pub async fn month_data(
    store: &dyn Store,
    ward_id: i64,
    month: Month,
) -> Result<MonthData, AppError> {
    let rules = store.duty_rules(ward_id).await?;
    let templates = store.templates(ward_id).await?;
    let people = store
        .people(ward_id, &Default::default())
        .await?
        .into_iter()
        .filter(|p| p.archived_at.is_none())
        .collect::<Vec<_>>();
    let (from, to) = month.bounds();
    let (from, to) = (from - Duration::days(1), to + Duration::days(1));
    let shifts = store.shifts(ward_id, from, to).await?;
    let assignments = store.assignments(ward_id, from, to).await?;
    let avail: HashMap<i64, (String, bool)> = store
        .availability(ward_id)
        .await?
        .into_iter()
        .map(|a| (a.person_id, (a.weekdays, a.nights)))
        .collect();
    let leave = store
        .leave(
            ward_id,
            month.first() - Duration::days(1),
            month.last() + Duration::days(1),
        )
        .await?;
    let availability = people
        .iter()
        .map(|p| {
            let mut r = roster::Person::always(p.id);
            if let Some((days, nights)) = avail.get(&p.id) {
                for (i, c) in days.chars().take(7).enumerate() {
                    r.weekdays[i] = c == '1';
                }
                r.nights = *nights;
            }
            r.leave = leave
                .iter()
                .filter(|l| l.person_id == p.id)
                .map(|l| DateSpan {
                    from: l.from_date,
                    to: l.to_date,
                })
                .collect();
            r
        })
        .collect();
    Ok(MonthData {
        month,
        rules,
        templates,
        people,
        availability,
        shifts,
        assignments,
    })
}

impl MonthData {
    pub fn rules(&self) -> Rules {
        Rules {
            max_nights: self.rules.max_nights.max(0) as u32,
            rest_hours: self.rules.rest_hours,
        }
    }

    /// The duties `person` holds around `shift`, as the rules see them (the shift itself
    /// and the assignments in `except` left out); night duties count only within the
    /// shift's month.
    pub fn bookings(&self, person: i64, shift: &Shift, except: &[i64]) -> Vec<Booking> {
        let by_id: HashMap<i64, &Shift> = self.shifts.iter().map(|s| (s.id, s)).collect();
        self.assignments
            .iter()
            .filter(|a| a.person_id == person && a.shift_id != shift.id && !except.contains(&a.id))
            .filter_map(|a| by_id.get(&a.shift_id))
            .map(|s| {
                let start = to_local(s.starts_at);
                let end = to_local(s.ends_at);
                Booking {
                    start,
                    end,
                    night: roster::is_night(start, end),
                    // A night of another month still owes rest but does not count
                    // towards this month's limit.
                    in_month: s.month == shift.month,
                }
            })
            .collect()
    }

    /// Every rule `person` would break by being on `shift`, as if the assignments in
    /// `except` were not there (a swap gives them away).
    pub fn conflicts(&self, person: i64, shift: &Shift, except: &[i64]) -> Vec<Conflict> {
        let Some(template) = self.templates.iter().find(|t| t.id == shift.template_id) else {
            return vec![Conflict::NotEligible];
        };
        let Some(who) = self.availability.iter().find(|p| p.id == person) else {
            return vec![Conflict::NotEligible];
        };
        let s = roster::Shift {
            start: to_local(shift.starts_at),
            end: to_local(shift.ends_at),
            needed: shift.needed as usize,
            eligible: eligible(template, &self.people),
            assigned: self
                .assignments
                .iter()
                .filter(|a| a.shift_id == shift.id && !except.contains(&a.id))
                .map(|a| a.person_id)
                .collect(),
            in_month: true,
        };
        roster::conflicts(
            who,
            &s,
            &self.bookings(person, shift, except),
            &self.rules(),
        )
    }

    pub fn person_name(&self, id: i64) -> String {
        self.people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.full_name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }
}

/// A conflict in words, for answers and pages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConflictView {
    pub code: String,
    pub message: String,
}

pub fn describe(conflicts: &[Conflict], lang: crate::i18n::Lang) -> Vec<ConflictView> {
    conflicts
        .iter()
        .map(|c| {
            let mut message = crate::i18n::tr(lang, c.message()).to_string();
            if let Conflict::Overlap(at) | Conflict::Rest(at) = c {
                message.push_str(&format!(" ({})", at.format("%d/%m/%Y %H:%M")));
            }
            ConflictView {
                code: format!("{c:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_lowercase(),
                message,
            }
        })
        .collect()
}

/// One duty that a build could not staff, in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShortfallView {
    pub template_id: i64,
    pub title: String,
    /// dd/mm/yyyy HH:MM, local
    pub starts: String,
    pub needed: usize,
    pub missing: usize,
    pub eligible: usize,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BuildOutcome {
    pub month: String,
    pub shifts: usize,
    pub added: usize,
    pub removed: usize,
    pub shortfalls: Vec<ShortfallView>,
    /// Whether anything was written: a build with shortfalls is saved only when asked.
    pub saved: bool,
}

/// Build (or complete) a month's roster for the ward, or only for one team's duties.
/// With shortfalls nothing is written unless `accept_open` (the open places stay open
/// for people to claim).
pub async fn build_month(
    store: &dyn Store,
    actor: Actor,
    ward_id: i64,
    month: Month,
    team: Option<i64>,
    accept_open: bool,
    lang: crate::i18n::Lang,
) -> Result<BuildOutcome, AppError> {
    let data = month_data(store, ward_id, month).await?;
    let in_scope = |t: &Template| team.is_none() || (t.force_kind == "team" && t.team_id == team);
    let key = month.key();
    // Existing shifts by (template, start); the month's occurrences of every template.
    let existing: HashMap<(i64, DateTime<Utc>), &Shift> = data
        .shifts
        .iter()
        .map(|s| ((s.template_id, s.starts_at), s))
        .collect();
    let mut plan_shifts: Vec<roster::Shift> = Vec::new();
    let mut roster_shifts: Vec<RosterShift> = Vec::new();
    let mut titles: Vec<(i64, String)> = Vec::new();
    let mut wanted: std::collections::HashSet<i64> = Default::default();
    for t in &data.templates {
        let pool = eligible(t, &data.people);
        for (start, end) in occurrences(t, month.first(), month.last()) {
            let starts_at = to_utc(start);
            let found = existing.get(&(t.id, starts_at));
            let assigned: Vec<i64> = found
                .map(|s| {
                    data.assignments
                        .iter()
                        .filter(|a| a.shift_id == s.id)
                        .map(|a| a.person_id)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(s) = found {
                wanted.insert(s.id);
            }
            // Out of scope duties take part only as bookings: nobody is added to them.
            let needed = if in_scope(t) {
                t.needed as usize
            } else {
                assigned.len()
            };
            plan_shifts.push(roster::Shift {
                start,
                end,
                needed,
                eligible: pool.clone(),
                assigned,
                in_month: true,
            });
            roster_shifts.push(RosterShift {
                id: found.map(|s| s.id),
                template_id: t.id,
                starts_at,
                ends_at: to_utc(end),
                needed: t.needed,
                add: Vec::new(),
            });
            titles.push((t.id, t.title.clone()));
        }
    }
    // Shifts of other days (the neighbouring months' edges, hand-made ones) still bind
    // their people.
    for s in &data.shifts {
        if wanted.contains(&s.id) {
            continue;
        }
        let assigned: Vec<i64> = data
            .assignments
            .iter()
            .filter(|a| a.shift_id == s.id)
            .map(|a| a.person_id)
            .collect();
        plan_shifts.push(roster::Shift {
            start: to_local(s.starts_at),
            end: to_local(s.ends_at),
            needed: assigned.len(),
            eligible: assigned.clone(),
            assigned,
            in_month: s.month == key,
        });
    }
    // This month's shifts of in-scope duties that are no longer scheduled (rule changed,
    // template archived) go, unless someone already checked in (the store refuses that).
    let remove: Vec<i64> = data
        .shifts
        .iter()
        .filter(|s| s.month == key && !wanted.contains(&s.id))
        .filter(|s| {
            let t = data.templates.iter().find(|t| t.id == s.template_id);
            t.is_none_or(in_scope) && (team.is_none() || t.is_some())
        })
        .map(|s| s.id)
        .collect();
    let plan = roster::build(&data.availability, &plan_shifts, &data.rules());
    let mut added = 0;
    for (i, rs) in roster_shifts.iter_mut().enumerate() {
        rs.add = plan.added[i].clone();
        added += rs.add.len();
    }
    let shortfalls: Vec<ShortfallView> = plan
        .shortfalls
        .iter()
        .filter(|s| s.shift < roster_shifts.len())
        .map(|s| ShortfallView {
            template_id: titles[s.shift].0,
            title: titles[s.shift].1.clone(),
            starts: plan_shifts[s.shift]
                .start
                .format("%d/%m/%Y %H:%M")
                .to_string(),
            needed: plan_shifts[s.shift].needed,
            missing: s.missing,
            eligible: s.eligible,
            reasons: s
                .reasons
                .iter()
                .map(|(c, n)| {
                    format!(
                        "{n} {}: {}",
                        crate::i18n::tr(lang, "người"),
                        crate::i18n::tr(lang, c.message())
                    )
                })
                .collect(),
        })
        .collect();
    let saved = shortfalls.is_empty() || accept_open;
    if saved {
        let shifts: Vec<RosterShift> = roster_shifts
            .into_iter()
            .filter(|s| s.id.is_none() || !s.add.is_empty())
            .collect();
        store
            .save_roster(actor, ward_id, &key, &shifts, &remove)
            .await?;
    }
    Ok(BuildOutcome {
        month: month.label(),
        shifts: plan_shifts.len(),
        added,
        removed: remove.len(),
        shortfalls,
        saved,
    })
}

/// Who may change a shift's people: the ward's officers, and a team leader for the
/// duties of their own team.
pub fn can_roster(
    user: Option<&User>,
    ward_id: i64,
    t: &Template,
    team_groups: &[TeamGroup],
) -> bool {
    if policy::can_edit_registry(user, ward_id) {
        return true;
    }
    match user {
        Some(u) if u.role() == Role::TeamLeader && u.ward_id == Some(ward_id) => {
            t.force_kind == "team"
                && t.team_id.is_some()
                && policy::own_team(u, team_groups) == t.team_id
        }
        _ => false,
    }
}

/// The ward's whole roster (and its calendar): officers, ward leaders, team leaders.
pub fn can_see_roster(user: Option<&User>, ward_id: i64) -> bool {
    match user {
        Some(u) => match u.role() {
            Role::Admin => true,
            Role::Officer | Role::Leadership | Role::TeamLeader => u.ward_id == Some(ward_id),
            _ => false,
        },
        None => false,
    }
}

/// Metres between two WGS 84 points.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    crate::reports::service::distance_m(a, b)
}

/// The distance from `at` to the nearest stop of the place, when both are known.
pub fn distance_to(stops: &[Stop], at: Option<(f64, f64)>) -> Option<f64> {
    let at = at?;
    stops
        .iter()
        .map(|s| distance_m(at, (s.lat, s.lon)))
        .min_by(|a, b| a.total_cmp(b))
}

type HmacSha256 = Hmac<Sha256>;

fn code_mac(key: &str, stop: i64, version: i64, until: NaiveDate) -> String {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(format!("wardwatch-stop:{stop}:{version}:{}", until.format("%Y%m%d")).as_bytes());
    let bytes = mac.finalize().into_bytes();
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..16])
}

/// The code posted at a stop: `STOP.VERSION.YYYYMMDD.SIGNATURE`. It is valid until the
/// date it carries and until the place's codes are renewed, so that a photo of an old
/// code stops working.
pub fn stop_code(place: &Place, stop: &Stop, valid_until: NaiveDate) -> String {
    format!(
        "{}.{}.{}.{}",
        stop.id,
        place.qr_version,
        valid_until.format("%Y%m%d"),
        code_mac(&place.qr_key, stop.id, place.qr_version, valid_until)
    )
}

/// The stop a scanned code names, before its signature is checked.
pub fn code_stop(code: &str) -> Option<i64> {
    code.split('.').next()?.parse().ok()
}

/// Why a scanned code is refused.
pub fn check_code(code: &str, place: &Place, stop: &Stop, on: NaiveDate) -> Result<(), Invalid> {
    let parts: Vec<&str> = code.trim().split('.').collect();
    let bad = Invalid("Mã QR không hợp lệ.");
    let [s, v, d, sig] = parts.as_slice() else {
        return Err(bad);
    };
    let until = NaiveDate::parse_from_str(d, "%Y%m%d").map_err(|_| bad)?;
    if s.parse::<i64>().ok() != Some(stop.id) || stop.place_id != place.id {
        return Err(bad);
    }
    // An earlier version was signed with a key since replaced: say so rather than
    // "invalid", so that the team knows to post the new codes.
    if v.parse::<i64>().ok() != Some(place.qr_version) {
        return Err(Invalid(
            "Mã QR này đã bị thay bằng mã mới; hãy quét mã đang dán tại điểm.",
        ));
    }
    let mac = code_mac(&place.qr_key, stop.id, place.qr_version, until);
    if !crate::http::ctx::constant_time_eq(mac.as_bytes(), sig.as_bytes()) {
        return Err(bad);
    }
    if on > until {
        return Err(Invalid("Mã QR này đã hết hạn; báo tổ trưởng in mã mới."));
    }
    Ok(())
}

/// A new random key for signing a place's codes.
pub fn new_qr_key() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(version: i64) -> (Place, Stop) {
        let now = Utc::now();
        (
            Place {
                id: 3,
                ward_id: 1,
                kind: "route".into(),
                name: "Tuyến tuần tra số 1".into(),
                site_id: None,
                notes: String::new(),
                qr_key: "k".repeat(64),
                qr_version: version,
                created_at: now,
                updated_at: now,
                archived_at: None,
            },
            Stop {
                id: 9,
                place_id: 3,
                seq: 1,
                name: "Cổng chợ".into(),
                lat: 20.85,
                lon: 106.68,
            },
        )
    }

    #[test]
    fn codes_are_signed_versioned_and_expire() {
        let (p, s) = place(1);
        let until = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        let code = stop_code(&p, &s, until);
        let day = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
        assert_eq!(code_stop(&code), Some(9));
        assert!(check_code(&code, &p, &s, day).is_ok());
        // Expired.
        assert!(check_code(&code, &p, &s, until + Duration::days(1)).is_err());
        // A forged date or stop breaks the signature.
        let forged = code.replace("20270331", "20301231");
        assert_eq!(
            check_code(&forged, &p, &s, day),
            Err(Invalid("Mã QR không hợp lệ."))
        );
        // Renewed codes: the old one is refused.
        let (mut p2, _) = place(2);
        p2.qr_key = "n".repeat(64);
        assert!(check_code(&code, &p2, &s, day).is_err());
        assert!(check_code(&stop_code(&p2, &s, until), &p2, &s, day).is_ok());
        assert!(check_code("9.1.2027", &p, &s, day).is_err());
    }

    #[test]
    fn months_and_times() {
        let m = Month::parse("12/2026").unwrap();
        assert_eq!(m, Month::parse("2026-12").unwrap());
        assert_eq!(m.last(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(m.next().key(), "2027-01");
        let (from, _) = m.bounds();
        assert_eq!(from.to_rfc3339(), "2026-11-30T17:00:00+00:00");
        assert!(Month::parse("13/2026").is_err());
        assert_eq!(
            duration(parse_time("22:00").unwrap(), parse_time("05:00").unwrap()),
            Duration::hours(7)
        );
    }
}
