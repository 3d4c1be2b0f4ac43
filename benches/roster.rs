//! Roster benchmark: how long a month's duty roster takes to build.
//!
//! 1. Dư Hàng Kênh as the article has it: 22 security teams (5 members each) patrolling
//!    three nights a week, 30 veterans on the Sunday Chợ Hàng session and two school
//!    gates twice a school day, the police on lunar days 1 and 15. Recurrences expanded
//!    (RRULE and lunar) and the roster built, in memory.
//! 2. A city of 100 such wards, one after another and on every core.
//! 3. End to end through the service on SQLite: the demo wards loaded, then
//!    `build_month` for a month with nothing built yet (reading, building, writing).
//!
//! Run with `scripts/bench-roster.sh` (or `cargo bench --bench roster`); the figures are
//! written between the roster markers of BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use wardwatch::duty::recurrence::{Recurrence, RecurrenceInput};
use wardwatch::duty::roster::{self, Person, Rules, Shift};

const TEAMS: i64 = 22;
const MEMBERS: i64 = 5;
const VETERANS: i64 = 30;
const POLICE: i64 = 6;

struct Duty {
    rule: &'static str,
    lunar: &'static str,
    start: (u32, u32),
    hours: i64,
    needed: usize,
    pool: Vec<i64>,
}

/// The duties and people of one ward like Dư Hàng Kênh; ids start at `base`.
fn ward(base: i64) -> (Vec<Person>, Vec<Duty>) {
    let mut people = Vec::new();
    let mut duties = Vec::new();
    let days = [
        "MO,WE,FR", "TU,TH,SA", "WE,FR,SU", "MO,TH,SA", "TU,FR,SU", "MO,WE,SA", "TU,TH,SU",
    ];
    for t in 0..TEAMS {
        let pool: Vec<i64> = (0..MEMBERS).map(|m| base + t * MEMBERS + m).collect();
        people.extend(pool.iter().map(|id| Person::always(*id)));
        duties.push(Duty {
            rule: Box::leak(format!("FREQ=WEEKLY;BYDAY={}", days[t as usize % 7]).into_boxed_str()),
            lunar: "",
            start: (22, 0),
            hours: 7,
            needed: 2,
            pool,
        });
    }
    let vets: Vec<i64> = (0..VETERANS).map(|v| base + TEAMS * MEMBERS + v).collect();
    people.extend(vets.iter().map(|id| Person::always(*id)));
    duties.push(Duty {
        rule: "FREQ=WEEKLY;BYDAY=SU",
        lunar: "",
        start: (5, 30),
        hours: 5,
        needed: 6,
        pool: vets.clone(),
    });
    for _school in 0..2 {
        for (start, needed) in [((6, 30), 2), ((16, 0), 2)] {
            duties.push(Duty {
                rule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                lunar: "",
                start,
                hours: 1,
                needed,
                pool: vets.clone(),
            });
        }
    }
    let police: Vec<i64> = (0..POLICE)
        .map(|p| base + TEAMS * MEMBERS + VETERANS + p)
        .collect();
    people.extend(police.iter().map(|id| Person::always(*id)));
    duties.push(Duty {
        rule: "",
        lunar: "1,15",
        start: (17, 0),
        hours: 4,
        needed: 1,
        pool: police,
    });
    (people, duties)
}

/// Expand the month's occurrences and build the roster; answers (shifts, places filled).
fn build(people: &[Person], duties: &[Duty], first: NaiveDate, last: NaiveDate) -> (usize, usize) {
    let mut shifts = Vec::new();
    for d in duties {
        let rec = Recurrence::parse(&RecurrenceInput {
            starts_on: Some(NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")),
            start_time: NaiveTime::from_hms_opt(d.start.0, d.start.1, 0),
            rule: d.rule,
            lunar_days: d.lunar,
            ..Default::default()
        })
        .expect("a valid rule");
        for day in rec.dates(first, last) {
            let start = day.and_hms_opt(d.start.0, d.start.1, 0).expect("time");
            shifts.push(Shift {
                start,
                end: start + chrono::Duration::hours(d.hours),
                needed: d.needed,
                eligible: d.pool.clone(),
                assigned: Vec::new(),
                in_month: true,
            });
        }
    }
    let plan = roster::build(people, &shifts, &Rules::default());
    (shifts.len(), plan.added.iter().map(Vec::len).sum())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let first = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let last = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);

    // 1. One ward.
    let (people, duties) = ward(0);
    let mut times = Vec::new();
    let mut shape = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        shape = build(&people, &duties, first, last);
        times.push(t.elapsed());
    }
    let one = median(times.clone());
    let one_max = *times.iter().max().expect("runs");
    println!(
        "one ward: {} shifts, {} places filled, median {}, max {}",
        shape.0,
        shape.1,
        ms(one),
        ms(one_max)
    );

    // 2. A city of 100 wards.
    let city: Vec<(Vec<Person>, Vec<Duty>)> = (0..100).map(|w| ward(w * 10_000)).collect();
    let mut seq = Vec::new();
    let mut par = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for _ in 0..3 {
        let t = Instant::now();
        for (p, d) in &city {
            build(p, d, first, last);
        }
        seq.push(t.elapsed());
        let t = Instant::now();
        std::thread::scope(|s| {
            for chunk in city.chunks(city.len().div_ceil(cores)) {
                s.spawn(move || {
                    for (p, d) in chunk {
                        build(p, d, first, last);
                    }
                });
            }
        });
        par.push(t.elapsed());
    }
    let (seq, par) = (median(seq), median(par));
    println!(
        "city of 100 wards: one after another {}, on {cores} cores {}",
        ms(seq),
        ms(par)
    );

    // 3. End to end on SQLite with the demo wards.
    let (e2e, e2e_median) = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(end_to_end());
    println!("end to end (SQLite, demo Dư Hàng Kênh): {e2e}");

    let verdict = |d: Duration| {
        if d < Duration::from_millis(100) {
            "PASS"
        } else {
            "FAIL"
        }
    };
    let section = format!(
        "## Duty rosters\n\n\
         Written by `scripts/bench-roster.sh` (`cargo bench --bench roster`, benches/roster.rs) on {}. \
         A month (December 2026) of Dư Hàng Kênh as the article has it: {TEAMS} security teams of {MEMBERS} \
         members patrolling three nights a week in twos, {VETERANS} veterans on the Sunday Chợ Hàng session \
         (6 at a time) and two school gates twice each school day, {POLICE} officers on lunar days 1 and 15. \
         The time covers expanding the recurrences (RRULE and lunar) and building the roster with every rule \
         (no double booking, rest after nights, at most 10 nights, fairness).\n\n\
         | measurement | figure | target | verdict |\n|---|---|---|---|\n\
         | One ward, in memory ({} shifts, {} places) | median **{}** (max {}) over {runs} runs | < 100 ms | {} |\n\
         | City of 100 wards, in memory, one after another | median **{}** over 3 runs | — | — |\n\
         | City of 100 wards, in memory, on {cores} cores | median **{}** over 3 runs | — | — |\n\
         | One ward end to end on SQLite (read, build, write; demo Dư Hàng Kênh) | {} | < 100 ms | {} |\n\n\
         The machine's two cores are shared with everything else running; the city figures on all cores \
         are only faster than one after another when the other core is idle.\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        shape.0,
        shape.1,
        ms(one),
        ms(one_max),
        verdict(one),
        ms(seq),
        ms(par),
        e2e,
        verdict(e2e_median),
    );
    write_section(&section);
}

async fn end_to_end() -> (String, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = wardwatch::store::connect(&url).await.expect("store");
    store.migrate().await.expect("migrations");
    wardwatch::demo::load(store.as_ref()).await.expect("demo");
    let ward = store
        .unit_by_code("du-hang-kenh")
        .await
        .expect("store")
        .expect("ward");
    let mut month = wardwatch::duty::service::Month::parse("")
        .expect("month")
        .next();
    let mut times = Vec::new();
    let mut added = 0;
    for _ in 0..5 {
        month = month.next();
        let t = Instant::now();
        let o = wardwatch::duty::service::build_month(
            store.as_ref(),
            wardwatch::store::Actor::default(),
            ward.id,
            month,
            None,
            true,
            wardwatch::i18n::Lang::Vi,
        )
        .await
        .expect("build");
        times.push(t.elapsed());
        added = o.added;
    }
    let m = median(times);
    (
        format!(
            "median **{}** over 5 fresh months ({added} places filled in the last)",
            ms(m)
        ),
        m,
    )
}

/// Replace the roster section of BENCHMARKS.md (between its markers), or append it.
fn write_section(section: &str) {
    const BEGIN: &str = "<!-- roster:begin -->";
    const END: &str = "<!-- roster:end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let block = format!("{BEGIN}\n{section}{END}\n");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!(
            "{}{block}{}",
            &old[..a],
            &old[b + END.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n{block}", old.trim_end()),
    };
    std::fs::write(&path, new).expect("BENCHMARKS.md written");
    println!("written to {}", path.display());
}
