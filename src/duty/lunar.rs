//! The Vietnamese lunisolar calendar (âm lịch), for duties kept on lunar days and for Tết.
//! Computed from the astronomy (Hồ Ngọc Đức's method) rather than from tables, so it also
//! gives the Chinese calendar when reckoned at UTC+8. Meant for the years 1900–2199.

use std::cell::RefCell;
use std::fmt;

use chrono::{Datelike, NaiveDate};

/// Hours east of UTC at which the calendar is reckoned: Vietnam uses UTC+7; the Chinese calendar UTC+8.
pub const VIETNAM: f64 = 7.0;
pub const CHINA: f64 = 8.0;

/// A day of the lunar calendar; `leap` marks the intercalary month (tháng nhuận).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LunarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub leap: bool,
}

impl fmt::Display for LunarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leap = if self.leap { " nhuận" } else { "" };
        write!(f, "{}/{}{leap}/{}", self.day, self.month, self.year)
    }
}

/// The lunar date of `date`. Outside 1900–2199 the error grows (ΔT is fitted to the modern
/// era); all functions may panic near the ends of chrono's date range.
pub fn to_lunar(date: NaiveDate, zone: f64) -> LunarDate {
    let (span, i, day) = locate(date, zone);
    let (month, leap) = span.month(i);
    LunarDate {
        year: span.year + i32::from(month < 11),
        month,
        day: (day - span.starts[i] + 1) as u32,
        leap,
    }
}

/// None when that lunar date does not exist (e.g. day 30 of a 29-day month, or a leap month that year lacks).
pub fn to_solar(lunar: LunarDate, zone: f64) -> Option<NaiveDate> {
    if !(1..=12).contains(&lunar.month) || !(1..=30).contains(&lunar.day) {
        return None;
    }
    // Months 11 and 12 open the span that starts at that year's solstice; 1–10 end the one before.
    let span = span(lunar.year - i32::from(lunar.month < 11), zone);
    let i = (0..span.len).find(|&i| span.month(i) == (lunar.month, lunar.leap))?;
    let day = span.starts[i] + i64::from(lunar.day) - 1;
    from_jdn(day).filter(|_| day < span.starts[i + 1])
}

/// Number of days (29 or 30) of the lunar month that contains `date`.
pub fn month_length(date: NaiveDate, zone: f64) -> u32 {
    let (span, i, _) = locate(date, zone);
    (span.starts[i + 1] - span.starts[i]) as u32
}

/// Tết: the solar date of lunar 1/1 of `year`.
pub fn tet(year: i32, zone: f64) -> NaiveDate {
    let new_year = LunarDate {
        year,
        month: 1,
        day: 1,
        leap: false,
    };
    to_solar(new_year, zone).expect("every lunar year has a first month")
}

/// Julian day number of the day before 0001-01-01, chrono's day 0.
const JDN_CE: i64 = 1_721_425;
/// Mean length of a lunation in days, and the instant of lunation 0 (January 1900) it counts from.
const SYNODIC_MONTH: f64 = 29.530_588_853;
const NEW_MOON_0: f64 = 2_415_021.076_998_695;

fn jdn(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JDN_CE
}

fn from_jdn(jdn: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(jdn - JDN_CE).ok()?)
}

fn sin_deg(degrees: f64) -> f64 {
    degrees.to_radians().sin()
}

/// Julian date (UT) of new moon `k`, counted from January 1900, by Meeus' series. Its
/// error of a few minutes only matters when a new moon falls right at local midnight.
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries since 1900
    let (t2, t3) = (t * t, t * t * t);
    let mean = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3
        + 0.000_33 * sin_deg(166.56 + 132.87 * t - 0.009_173 * t2);
    // Anomalies of the sun (m) and moon (mp), and the moon's argument of latitude (f).
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mp = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let true_minus_mean = (0.1734 - 0.000_393 * t) * sin_deg(m) + 0.0021 * sin_deg(2.0 * m)
        - 0.4068 * sin_deg(mp)
        + 0.0161 * sin_deg(2.0 * mp)
        - 0.0004 * sin_deg(3.0 * mp)
        + 0.0104 * sin_deg(2.0 * f)
        - 0.0051 * sin_deg(m + mp)
        - 0.0074 * sin_deg(m - mp)
        + 0.0004 * sin_deg(2.0 * f + m)
        - 0.0004 * sin_deg(2.0 * f - m)
        - 0.0006 * sin_deg(2.0 * f + mp)
        + 0.0010 * sin_deg(2.0 * f - mp)
        + 0.0005 * sin_deg(m + 2.0 * mp);
    // The series runs on dynamical time; calendars run on the clock (ΔT, modern-era fit).
    let delta_t = -0.000_278 + 0.000_265 * t + 0.000_262 * t2;
    mean + true_minus_mean - delta_t
}

/// Julian day number of the local day on which new moon `k` falls: that day is day 1.
fn new_moon_day(k: i64, zone: f64) -> i64 {
    (new_moon(k) + 0.5 + zone / 24.0).floor() as i64
}

/// Which 30° sector of longitude the sun is in at the local midnight starting `day`. The
/// sun entering a sector is a major solar term (trung khí), so a month whose first day
/// and the next month's share a sector has none.
fn sun_sector(day: i64, zone: f64) -> i64 {
    let t = (day as f64 - 0.5 - zone / 24.0 - 2_451_545.0) / 36_525.0; // centuries since J2000
    let t2 = t * t;
    let anomaly = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t2 * t;
    let mean = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let centre = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * sin_deg(anomaly)
        + (0.019_993 - 0.000_101 * t) * sin_deg(2.0 * anomaly)
        + 0.000_290 * sin_deg(3.0 * anomaly);
    ((mean + centre).rem_euclid(360.0) / 30.0).floor() as i64
}

/// The new moon starting month 11 of `year`, the month that holds the December solstice.
fn month_11(year: i32, zone: f64) -> i64 {
    let dec_31 = NaiveDate::from_ymd_opt(year, 12, 31).expect("year within chrono's range");
    let k = ((jdn(dec_31) as f64 - NEW_MOON_0) / SYNODIC_MONTH).floor() as i64;
    // That is the last new moon before the year ends, unless the sun was already past
    // 270° (sector 9) on its day; then the solstice fell in the month before.
    k - i64::from(sun_sector(new_moon_day(k, zone), zone) >= 9)
}

/// The months from one month 11 to the next: 11 and 12 of lunar year `year`, then 1–10
/// of the next, 13 months when one of them is a leap month.
#[derive(Clone, Copy)]
struct Span {
    year: i32,
    len: usize,
    /// Local day each month starts on; `starts[len]` is the next month 11.
    starts: [i64; 14],
    leap: Option<usize>,
}

impl Span {
    fn new(year: i32, zone: f64) -> Span {
        let first = month_11(year, zone);
        let len = (month_11(year + 1, zone) - first) as usize;
        assert!(matches!(len, 12 | 13), "no lunar year {year}");
        let mut starts = [0; 14];
        let mut sectors = [0; 14];
        for i in 0..=len {
            starts[i] = new_moon_day(first + i as i64, zone);
            sectors[i] = sun_sector(starts[i], zone);
        }
        // Thirteen months share twelve major terms, so at least one month lacks one; the
        // first such is the leap month. Month 11 holds the solstice, hence start from 1.
        let leap = (len == 13).then(|| {
            (1..len)
                .find(|&i| sectors[i] == sectors[i + 1])
                .expect("13 months hold only 12 major terms")
        });
        Span {
            year,
            len,
            starts,
            leap,
        }
    }

    /// Number and leap flag of month `i`: a leap month repeats the number before it.
    fn month(&self, i: usize) -> (u32, bool) {
        let n = match self.leap {
            Some(leap) if i >= leap => i - 1,
            _ => i,
        };
        ((n as u32 + 10) % 12 + 1, self.leap == Some(i))
    }
}

/// Each span costs some 30 new moons and solar longitudes; callers walk day by day, so
/// keep the last few per thread.
fn span(year: i32, zone: f64) -> Span {
    thread_local! {
        static RECENT: RefCell<Vec<((i32, u64), Span)>> = const { RefCell::new(Vec::new()) };
    }
    let key = (year, zone.to_bits());
    RECENT.with_borrow_mut(|recent| {
        if let Some((_, span)) = recent.iter().find(|(k, _)| *k == key) {
            return *span;
        }
        let span = Span::new(year, zone);
        if recent.len() >= 8 {
            recent.remove(0);
        }
        recent.push((key, span));
        span
    })
}

/// The span holding `date`, the index of its month there, and its day number.
fn locate(date: NaiveDate, zone: f64) -> (Span, usize, i64) {
    let day = jdn(date);
    let mut found = span(date.year(), zone);
    if day < found.starts[0] {
        found = span(date.year() - 1, zone);
    }
    let i = (0..found.len)
        .rev()
        .find(|&i| found.starts[i] <= day)
        .expect("span starts before the day");
    (found, i, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn l(year: i32, month: u32, day: u32, leap: bool) -> LunarDate {
        LunarDate {
            year,
            month,
            day,
            leap,
        }
    }

    #[test]
    fn tet_in_vietnam() {
        for (year, date) in [
            (1968, d(1968, 1, 29)), // the North's new UTC+7 calendar, a day before the South's
            (1985, d(1985, 1, 21)),
            (2007, d(2007, 2, 17)),
            (2023, d(2023, 1, 22)),
            (2024, d(2024, 2, 10)),
            (2025, d(2025, 1, 29)),
            (2026, d(2026, 2, 17)),
            (2030, d(2030, 2, 2)),
        ] {
            assert_eq!(tet(year, VIETNAM), date, "Tết {year}");
            assert_eq!(to_lunar(date, VIETNAM), l(year, 1, 1, false));
        }
        assert_eq!(to_lunar(d(2025, 1, 28), VIETNAM).month, 12);
    }

    #[test]
    fn the_zone_matters() {
        for (year, date) in [
            (1968, d(1968, 1, 30)),
            (1985, d(1985, 2, 20)),
            (2007, d(2007, 2, 18)),
            (2030, d(2030, 2, 3)),
        ] {
            assert_eq!(tet(year, CHINA), date, "Chinese New Year {year}");
            assert_ne!(tet(year, VIETNAM), date);
        }
    }

    #[test]
    fn leap_months() {
        // 2023: month 2 began 20/02, its leap twin ran 22/03–19/04.
        assert_eq!(to_lunar(d(2023, 3, 21), VIETNAM), l(2023, 2, 30, false));
        let leap_2 = l(2023, 2, 1, true);
        assert_eq!(to_lunar(d(2023, 3, 22), VIETNAM), leap_2);
        assert_eq!(leap_2.to_string(), "1/2 nhuận/2023");
        assert_eq!(to_solar(leap_2, VIETNAM), Some(d(2023, 3, 22)));
        assert_eq!(to_lunar(d(2023, 4, 19), VIETNAM), l(2023, 2, 29, true));
        assert_eq!(to_lunar(d(2023, 4, 20), VIETNAM), l(2023, 3, 1, false));
        // 2020: leap month 4 ran 23/05–20/06.
        assert_eq!(to_lunar(d(2020, 5, 23), VIETNAM), l(2020, 4, 1, true));
        assert_eq!(to_lunar(d(2020, 6, 20), VIETNAM), l(2020, 4, 29, true));
        assert_eq!(to_solar(l(2020, 4, 15, true), VIETNAM), Some(d(2020, 6, 6)));
        // 2033: the rare leap month 11 (from 22/12) that settled the Chinese "2033 problem".
        for zone in [VIETNAM, CHINA] {
            assert_eq!(to_lunar(d(2033, 12, 22), zone), l(2033, 11, 1, true));
        }
        for month in 1..=12 {
            let lacks = |year| to_solar(l(year, month, 1, true), VIETNAM).is_none();
            assert_eq!(lacks(2023), month != 2, "leap {month}/2023");
            assert_eq!(lacks(2020), month != 4, "leap {month}/2020");
            assert!(lacks(2024), "2024 has no leap month");
        }
    }

    #[test]
    fn nonexistent_dates() {
        assert_eq!(month_length(d(2023, 4, 1), VIETNAM), 29);
        assert_eq!(
            to_solar(l(2023, 2, 29, true), VIETNAM),
            Some(d(2023, 4, 19))
        );
        assert_eq!(to_solar(l(2023, 2, 30, true), VIETNAM), None);
        assert_eq!(to_solar(l(2024, 13, 1, false), VIETNAM), None);
        assert_eq!(to_solar(l(2024, 1, 0, false), VIETNAM), None);
    }

    #[test]
    fn mid_autumn_2024() {
        assert_eq!(
            to_solar(l(2024, 8, 15, false), VIETNAM),
            Some(d(2024, 9, 17))
        );
        assert_eq!(to_lunar(d(2024, 9, 17), VIETNAM).to_string(), "15/8/2024");
    }

    #[test]
    fn every_day_round_trips_and_advances() {
        let first = d(1900, 1, 31);
        assert_eq!(to_lunar(first, VIETNAM), l(1900, 1, 1, false));
        let mut prev: Option<(NaiveDate, LunarDate)> = None;
        for day in first.iter_days().take_while(|&day| day <= d(2199, 12, 31)) {
            let next = to_lunar(day, VIETNAM);
            assert_eq!(to_solar(next, VIETNAM), Some(day), "{day}: {next}");
            let Some((yesterday, prev)) = prev.replace((day, next)) else {
                continue;
            };
            let month_of = |x: LunarDate| (x.year, x.month, x.leap);
            if next.day != 1 {
                assert_eq!((month_of(next), next.day), (month_of(prev), prev.day + 1));
                continue;
            }
            assert!(matches!(prev.day, 29 | 30), "{yesterday}: {prev}");
            assert_eq!(month_length(yesterday, VIETNAM), prev.day, "{yesterday}");
            let (month, year) = match prev.month {
                12 => (1, prev.year + 1),
                m => (m + 1, prev.year),
            };
            let leap_twin = !prev.leap && month_of(next) == (prev.year, prev.month, true);
            let following = month_of(next) == (year, month, false);
            assert!(leap_twin || following, "{prev} then {next}");
        }
    }
}
