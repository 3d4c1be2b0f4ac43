//! What the machine is and how busy it was: cores, memory, limits, load average, and the
//! CPU time and memory of processes, all read from /proc.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on Linux x86_64).
const TICKS: f64 = 100.0;

pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    pub kernel: String,
    pub nofile_soft: u64,
    pub nofile_hard: u64,
    pub port_range: String,
    pub somaxconn: String,
    pub commit: String,
}

impl Machine {
    pub fn read() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| kib / 1024.0 / 1024.0)
            .unwrap_or(f64::NAN);
        let (nofile_soft, nofile_hard) = nofile("self");
        Self {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            memory_gib,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            nofile_soft,
            nofile_hard,
            port_range: read("/proc/sys/net/ipv4/ip_local_port_range")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("–"),
            somaxconn: read("/proc/sys/net/core/somaxconn").trim().to_string(),
            commit: commit(),
        }
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    match git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        "src",
        "Cargo.toml",
    ]) {
        Some(s) if !s.is_empty() => {
            format!("{head} (with uncommitted changes in src/ or Cargo.toml)")
        }
        _ => head,
    }
}

/// The soft and hard limits on open files of a process ("self" or a pid).
pub fn nofile(pid: &str) -> (u64, u64) {
    read(&format!("/proc/{pid}/limits"))
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            let n: Vec<u64> = l
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            (
                n.first().copied().unwrap_or(0),
                n.get(1).copied().unwrap_or(0),
            )
        })
        .unwrap_or((0, 0))
}

/// The 1-minute load average now.
pub fn load1() -> f64 {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Resident memory of a process in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    read(&format!("/proc/{pid}/status"))
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
}

/// User plus system CPU seconds a process has used.
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = read(&format!("/proc/{pid}/stat"));
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; here 0 is field 3 (state).
    (ticks(11) + ticks(12)) / TICKS
}

/// Whole-machine CPU seconds so far (all cores): busy (user, nice, system, irq, softirq,
/// steal) and waiting for I/O.
pub fn machine_cpu() -> (f64, f64) {
    let stat = read("/proc/stat");
    let f: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    (busy / TICKS, at(4) / TICKS)
}

/// Samples the 1-minute load average every few seconds for the whole run.
#[derive(Clone, Default)]
pub struct LoadLog(Arc<Mutex<Vec<(String, f64)>>>);

impl LoadLog {
    pub fn start() -> Self {
        let log = Self::default();
        let inner = log.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                inner.mark("");
            }
        });
        log
    }

    /// Record the load now, with a label for the start of a phase ("" for a sample).
    pub fn mark(&self, label: &str) -> f64 {
        let l = load1();
        self.0.lock().unwrap().push((label.to_string(), l));
        l
    }

    pub fn samples(&self) -> Vec<f64> {
        self.0.lock().unwrap().iter().map(|(_, l)| *l).collect()
    }

    pub fn marks(&self) -> Vec<(String, f64)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| !n.is_empty())
            .cloned()
            .collect()
    }
}
