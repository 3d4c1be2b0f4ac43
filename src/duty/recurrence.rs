//! When a recurring duty happens: an RFC 5545 rule (RRULE) or days of the Vietnamese
//! lunar month, between a first and an optional last day, minus exceptions (single days,
//! ranges such as a school holiday, and optionally Tết) plus single extra dates.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use rrule::{RRule, RRuleSet, Tz, Unvalidated};

use super::lunar;
use crate::domain::Invalid;

/// How far ahead a rule must produce a date for it to be accepted.
const RULE_HORIZON_DAYS: i64 = 2 * 366;

/// A closed range of days (a single day when `from == to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateSpan {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    /// "dd/mm/yyyy" or "dd/mm/yyyy-dd/mm/yyyy" (ISO dates are accepted too).
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let bad = Invalid("Ngày ngoại lệ phải viết dd/mm/yyyy hoặc khoảng dd/mm/yyyy-dd/mm/yyyy.");
        let s = input.trim();
        // An ISO date has dashes of its own: split a range on the dash between two dates.
        let (a, b) = if s.contains('/') {
            match s.split_once('-') {
                Some((a, b)) => (a, b),
                None => (s, s),
            }
        } else if s.len() == 21 && s.as_bytes()[10] == b'-' {
            (&s[..10], &s[11..])
        } else {
            (s, s)
        };
        let day = |x: &str| crate::domain::parse_date(x).ok().flatten();
        match (day(a), day(b)) {
            (Some(from), Some(to)) if from <= to => Ok(Self { from, to }),
            (Some(_), Some(_)) => Err(Invalid(
                "Khoảng ngày ngoại lệ phải có ngày đầu trước ngày cuối.",
            )),
            _ => Err(bad),
        }
    }

    pub fn format(&self) -> String {
        if self.from == self.to {
            self.from.format("%d/%m/%Y").to_string()
        } else {
            format!(
                "{}-{}",
                self.from.format("%d/%m/%Y"),
                self.to.format("%d/%m/%Y")
            )
        }
    }
}

/// What repeats.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Only the first day (and any extra dates).
    Once,
    /// An RFC 5545 RRULE value such as `FREQ=WEEKLY;BYDAY=SU`, anchored at the first day.
    Rule { text: String, set: Box<RRuleSet> },
    /// Lunar days of the month (1–30), in every lunar month or only in `months`.
    Lunar { days: Vec<u32>, months: Vec<u32> },
}

#[derive(Debug, Clone)]
pub struct Recurrence {
    pub starts_on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub pattern: Pattern,
    pub except: Vec<DateSpan>,
    /// Skip Tết: from the last day of lunar month 12 to lunar 3/1.
    pub skip_tet: bool,
    pub extra: Vec<NaiveDate>,
}

/// Where a recurrence's parts came from, as a person typed them.
#[derive(Debug, Clone, Default)]
pub struct RecurrenceInput<'a> {
    pub starts_on: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// The local start time, which anchors the rule (DTSTART).
    pub start_time: Option<NaiveTime>,
    pub rule: &'a str,
    /// Comma-separated lunar days, e.g. "1,15" or "1,6,11,16,21,26".
    pub lunar_days: &'a str,
    pub lunar_months: &'a str,
    /// Comma-separated exception days and ranges.
    pub except: &'a str,
    pub skip_tet: bool,
    pub extra: &'a str,
}

/// A refused part of a recurrence: the form field it came from and why.
pub type FieldError = (&'static str, Invalid);

fn numbers(input: &str, max: u32, err: Invalid) -> Result<Vec<u32>, Invalid> {
    let mut out = Vec::new();
    for part in input.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        match part.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => out.push(n),
            _ => return Err(err),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn list<T>(input: &str, item: impl Fn(&str) -> Result<T, Invalid>) -> Result<Vec<T>, Invalid> {
    input
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(item)
        .collect()
}

fn rrule_set(text: &str, starts_on: NaiveDate, at: NaiveTime) -> Result<RRuleSet, Invalid> {
    let bad = Invalid(
        "Quy tắc lặp không hợp lệ theo RFC 5545, ví dụ FREQ=WEEKLY;BYDAY=SU hoặc FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.",
    );
    let rule: RRule<Unvalidated> = text.parse().map_err(|_| bad)?;
    let tz = Tz::Tz(chrono_tz::Asia::Ho_Chi_Minh);
    let start = tz
        .from_local_datetime(&starts_on.and_time(at))
        .single()
        .ok_or(bad)?;
    let rule = rule.validate(start).map_err(|_| bad)?;
    Ok(RRuleSet::new(start).rrule(rule))
}

impl Recurrence {
    /// Check every part; all refusals are answered at once.
    pub fn parse(input: &RecurrenceInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let starts_on = input.starts_on;
        if starts_on.is_none() {
            errors.push(("starts_on", Invalid("Cần ngày bắt đầu.")));
        }
        if let (Some(a), Some(b)) = (starts_on, input.until)
            && b < a
        {
            errors.push(("until", Invalid("Ngày kết thúc phải sau ngày bắt đầu.")));
        }
        let rule = input.rule.trim();
        let rule = rule.strip_prefix("RRULE:").unwrap_or(rule).trim();
        let lunar_days = numbers(
            input.lunar_days,
            30,
            Invalid("Ngày âm lịch là các số từ 1 đến 30, cách nhau bằng dấu phẩy."),
        )
        .map_err(|e| errors.push(("lunar_days", e)))
        .unwrap_or_default();
        let lunar_months = numbers(
            input.lunar_months,
            12,
            Invalid("Tháng âm lịch là các số từ 1 đến 12, cách nhau bằng dấu phẩy."),
        )
        .map_err(|e| errors.push(("lunar_months", e)))
        .unwrap_or_default();
        if !rule.is_empty() && !lunar_days.is_empty() {
            errors.push((
                "rule",
                Invalid("Chọn một trong hai: quy tắc lặp dương lịch hoặc ngày âm lịch."),
            ));
        }
        if !lunar_months.is_empty() && lunar_days.is_empty() {
            errors.push((
                "lunar_days",
                Invalid("Đã chọn tháng âm lịch thì cần cả ngày âm lịch."),
            ));
        }
        let except = list(input.except, DateSpan::parse)
            .map_err(|e| errors.push(("except", e)))
            .unwrap_or_default();
        let extra = list(input.extra, |s| {
            crate::domain::parse_date(s)
                .and_then(|d| d.ok_or(Invalid("Ngày bổ sung phải viết dd/mm/yyyy.")))
        })
        .map_err(|e| errors.push(("extra", e)))
        .unwrap_or_default();

        let mut pattern = Pattern::Once;
        if let Some(starts_on) = starts_on {
            if !rule.is_empty() {
                let at = input.start_time.unwrap_or(NaiveTime::MIN);
                match rrule_set(rule, starts_on, at) {
                    Ok(set) => {
                        pattern = Pattern::Rule {
                            text: rule.to_string(),
                            set: Box::new(set),
                        }
                    }
                    Err(e) => errors.push(("rule", e)),
                }
            } else if !lunar_days.is_empty() {
                pattern = Pattern::Lunar {
                    days: lunar_days,
                    months: lunar_months,
                };
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let r = Recurrence {
            starts_on: starts_on.expect("checked above"),
            until: input.until,
            pattern,
            except,
            skip_tet: input.skip_tet,
            extra,
        };
        // A rule that never fires (30 February, or exceptions covering everything) is
        // refused rather than saved as a duty that silently never happens.
        let horizon = r.starts_on + Duration::days(RULE_HORIZON_DAYS);
        let last = r.until.map_or(horizon, |u| u.min(horizon));
        if r.dates(r.starts_on, last).is_empty() {
            return Err(vec![(
                "rule",
                Invalid(
                    "Lịch lặp này không rơi vào ngày nào trong hai năm tới: hãy kiểm tra quy tắc, ngày âm lịch và ngày ngoại lệ.",
                ),
            )]);
        }
        Ok(r)
    }

    /// The days the duty happens on within `from..=to`, in order.
    pub fn dates(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let from = from.max(self.starts_on);
        let to = self.until.map_or(to, |u| u.min(to));
        let mut out = Vec::new();
        if from <= to {
            match &self.pattern {
                Pattern::Once => {
                    if (from..=to).contains(&self.starts_on) {
                        out.push(self.starts_on);
                    }
                }
                Pattern::Rule { set, .. } => {
                    let tz = Tz::Tz(chrono_tz::Asia::Ho_Chi_Minh);
                    let (Some(a), Some(b)) = (
                        tz.from_local_datetime(&from.and_time(NaiveTime::MIN))
                            .single(),
                        tz.from_local_datetime(&(to + Duration::days(1)).and_time(NaiveTime::MIN))
                            .single(),
                    ) else {
                        return out;
                    };
                    let set = (**set).clone().after(a).before(b);
                    out.extend(
                        set.all(u16::MAX)
                            .dates
                            .into_iter()
                            .map(|d| d.date_naive())
                            .filter(|d| (from..=to).contains(d)),
                    );
                }
                Pattern::Lunar { days, months } => {
                    for d in from.iter_days().take_while(|d| *d <= to) {
                        let l = lunar::to_lunar(d, lunar::VIETNAM);
                        if days.contains(&l.day) && (months.is_empty() || months.contains(&l.month))
                        {
                            out.push(d);
                        }
                    }
                }
            }
        }
        out.extend(
            self.extra
                .iter()
                .copied()
                .filter(|d| (from..=to).contains(d)),
        );
        out.retain(|d| {
            !(self.except.iter().any(|s| s.contains(*d)) || (self.skip_tet && is_tet(*d)))
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The RRULE text, when the pattern is one.
    pub fn rule_text(&self) -> Option<&str> {
        match &self.pattern {
            Pattern::Rule { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The Tết holiday as wards keep it: New Year's Eve (the last day of lunar month 12)
/// to the third day of the first lunar month.
pub fn is_tet(d: NaiveDate) -> bool {
    let l = lunar::to_lunar(d, lunar::VIETNAM);
    if l.month == 1 && !l.leap && l.day <= 3 {
        return true;
    }
    let next = lunar::to_lunar(d + Duration::days(1), lunar::VIETNAM);
    next.month == 1 && !next.leap && next.day == 1
}

/// Monday = 0 … Sunday = 6.
pub fn weekday_index(d: NaiveDate) -> usize {
    d.weekday().num_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%d/%m/%Y").unwrap()
    }

    fn input<'a>(starts: &str, rule: &'a str) -> RecurrenceInput<'a> {
        RecurrenceInput {
            starts_on: Some(d(starts)),
            start_time: NaiveTime::from_hms_opt(5, 30, 0),
            rule,
            ..Default::default()
        }
    }

    #[test]
    fn sunday_market_every_week() {
        let r = Recurrence::parse(&input("01/11/2026", "FREQ=WEEKLY;BYDAY=SU")).unwrap();
        let days = r.dates(d("01/12/2026"), d("31/12/2026"));
        assert_eq!(
            days,
            vec![
                d("06/12/2026"),
                d("13/12/2026"),
                d("20/12/2026"),
                d("27/12/2026")
            ]
        );
    }

    #[test]
    fn school_days_skip_holidays_and_tet() {
        let mut i = input("01/01/2027", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
        i.except = "01/06/2027-31/07/2027, 02/09/2027";
        i.skip_tet = true;
        i.extra = "06/02/2027";
        let r = Recurrence::parse(&i).unwrap();
        // Tết 2027 is 06/02/2027 (Saturday): the eve 05/02 (Friday) and the third day
        // 08/02 (Monday) are skipped, and the extra Saturday falls inside Tết, so Tết wins.
        let feb = r.dates(d("01/02/2027"), d("12/02/2027"));
        assert_eq!(
            feb,
            vec![
                d("01/02/2027"),
                d("02/02/2027"),
                d("03/02/2027"),
                d("04/02/2027"),
                d("09/02/2027"),
                d("10/02/2027"),
                d("11/02/2027"),
                d("12/02/2027")
            ]
        );
        assert!(r.dates(d("01/06/2027"), d("31/07/2027")).is_empty());
        assert!(
            !r.dates(d("01/09/2027"), d("03/09/2027"))
                .contains(&d("02/09/2027"))
        );
        assert_eq!(r.dates(d("01/09/2027"), d("03/09/2027")).len(), 2);
    }

    #[test]
    fn lunar_market_days() {
        let i = RecurrenceInput {
            starts_on: Some(d("01/01/2026")),
            lunar_days: "1, 15",
            ..Default::default()
        };
        let r = Recurrence::parse(&i).unwrap();
        // Lunar 1/1/2026 is Tết, 17/02/2026; 15/1 is 03/03/2026.
        let days = r.dates(d("10/02/2026"), d("10/03/2026"));
        assert_eq!(days, vec![d("17/02/2026"), d("03/03/2026")]);
        for day in r.dates(d("01/01/2026"), d("31/12/2026")) {
            let l = lunar::to_lunar(day, lunar::VIETNAM);
            assert!(l.day == 1 || l.day == 15, "{day}: {l}");
        }
        // Two days a lunar month, 12 or 13 months a year.
        let n = r.dates(d("01/01/2026"), d("31/12/2026")).len();
        assert!((23..=27).contains(&n), "{n}");
    }

    #[test]
    fn lunar_days_in_chosen_months_with_until() {
        let i = RecurrenceInput {
            starts_on: Some(d("01/01/2030")),
            until: Some(d("31/12/2030")),
            lunar_days: "1",
            lunar_months: "1",
            ..Default::default()
        };
        let r = Recurrence::parse(&i).unwrap();
        assert_eq!(
            r.dates(d("01/01/2020"), d("31/12/2040")),
            vec![d("02/02/2030")]
        );
    }

    #[test]
    fn impossible_and_malformed_rules_are_refused() {
        let never = Recurrence::parse(&input("01/01/2027", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"));
        assert_eq!(never.unwrap_err()[0].0, "rule");
        let garbage = Recurrence::parse(&input("01/01/2027", "EVERY SUNDAY"));
        assert_eq!(garbage.unwrap_err()[0].0, "rule");
        let mut both = input("01/01/2027", "FREQ=DAILY");
        both.lunar_days = "1";
        assert!(Recurrence::parse(&both).is_err());
        let mut all_excepted = input("01/01/2027", "FREQ=DAILY");
        all_excepted.until = Some(d("10/01/2027"));
        all_excepted.except = "01/01/2027-10/01/2027";
        assert!(Recurrence::parse(&all_excepted).is_err());
        let bad_lunar = RecurrenceInput {
            starts_on: Some(d("01/01/2027")),
            lunar_days: "0, 31",
            ..Default::default()
        };
        assert_eq!(
            Recurrence::parse(&bad_lunar).unwrap_err()[0].0,
            "lunar_days"
        );
        let backwards = DateSpan::parse("10/01/2027-01/01/2027");
        assert!(backwards.is_err());
        assert_eq!(
            DateSpan::parse("2027-01-01-2027-01-10").unwrap(),
            DateSpan {
                from: d("01/01/2027"),
                to: d("10/01/2027")
            }
        );
    }

    #[test]
    fn once_with_extra_dates() {
        let mut i = input("05/12/2026", "");
        i.extra = "12/12/2026, 19/12/2026";
        let r = Recurrence::parse(&i).unwrap();
        assert_eq!(
            r.dates(d("01/12/2026"), d("31/12/2026")),
            vec![d("05/12/2026"), d("12/12/2026"), d("19/12/2026")]
        );
    }

    #[test]
    fn tet_days() {
        // Tết 2030 is 02/02/2030: 01/02 (eve) to 04/02.
        assert!(!is_tet(d("31/01/2030")));
        for s in ["01/02/2030", "02/02/2030", "03/02/2030", "04/02/2030"] {
            assert!(is_tet(d(s)), "{s}");
        }
        assert!(!is_tet(d("05/02/2030")));
    }
}
