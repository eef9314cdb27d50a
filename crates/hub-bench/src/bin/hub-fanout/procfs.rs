//! What `/proc` says about a process: CPU time, resident memory, open descriptors, and the
//! open-file limit (raised by re-executing under `ulimit -n`, since `setrlimit` would need
//! `unsafe` or a new dependency).

use anyhow::{bail, Context};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const CLK_TCK: f64 = 100.0;

/// Set on the re-executed process so it does not try again.
const REEXEC_ENV: &str = "HUB_FANOUT_REEXEC";

/// User + system CPU seconds of `pid` (all its threads, living and exited).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let (_, rest) = stat
        .rsplit_once(')')
        .with_context(|| format!("{path}: no ')'"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime field 15.
    let field = |i: usize| -> anyhow::Result<f64> {
        fields
            .get(i - 3)
            .with_context(|| format!("{path}: field {i} missing"))?
            .parse::<f64>()
            .with_context(|| format!("{path}: field {i} is not a number"))
    };
    Ok((field(14)? + field(15)?) / CLK_TCK)
}

/// Busy CPU seconds of the whole machine, all cores (`/proc/stat`: everything but idle and
/// iowait), to see how much other processes took during a step.
pub fn machine_busy_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("/proc/stat: no cpu line")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.parse::<f64>())
        .collect::<Result<_, _>>()
        .context("/proc/stat: cpu line")?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = v
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, x)| x)
        .sum();
    Ok(busy / CLK_TCK)
}

/// Resident set size of `pid` in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("VmRSS:") {
            let kib = v.trim().trim_end_matches("kB").trim();
            return kib
                .parse::<u64>()
                .with_context(|| format!("{path}: VmRSS {v:?}"));
        }
    }
    bail!("{path}: no VmRSS line")
}

/// Open file descriptors of `pid`.
pub fn open_fds(pid: u32) -> anyhow::Result<usize> {
    let path = format!("/proc/{pid}/fd");
    Ok(std::fs::read_dir(&path)
        .with_context(|| format!("listing {path}"))?
        .count())
}

/// (soft, hard) open-file limits of this process; `u64::MAX` for unlimited.
pub fn nofile_limits() -> anyhow::Result<(u64, u64)> {
    let limits =
        std::fs::read_to_string("/proc/self/limits").context("reading /proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("/proc/self/limits: no 'Max open files' line")?;
    let nums: Vec<u64> = line["Max open files".len()..]
        .split_whitespace()
        .take(2)
        .map(|w| {
            if w == "unlimited" {
                Ok(u64::MAX)
            } else {
                w.parse::<u64>()
            }
        })
        .collect::<Result<_, _>>()
        .context("/proc/self/limits: Max open files")?;
    match nums.as_slice() {
        [soft, hard] => Ok((*soft, *hard)),
        _ => bail!("/proc/self/limits: cannot read Max open files from {line:?}"),
    }
}

/// Makes sure this process (and the server children it spawns, which inherit the limit) may
/// open `needed` files. When the soft limit is lower and the hard limit allows it, re-executes
/// this binary under `/bin/sh -c 'ulimit -n N; exec ...'` (this call then never returns).
/// Returns the soft limit in force.
pub fn ensure_fd_limit(needed: u64) -> anyhow::Result<u64> {
    let (soft, hard) = nofile_limits()?;
    if soft >= needed {
        return Ok(soft);
    }
    if hard < needed {
        bail!(
            "{needed} open files are needed but the hard limit is {hard}: raise it (e.g. as root, \
             `ulimit -Hn 65536`, or LimitNOFILE= in a unit) or use fewer --subscribers"
        );
    }
    if std::env::var_os(REEXEC_ENV).is_some() {
        bail!("raising the open-file limit to {needed} failed (still {soft}); run `ulimit -n {needed}` first");
    }
    let exe = std::env::current_exe().context("locating this binary")?;
    eprintln!(
        "hub-fanout: open-file limit {soft} < {needed}: re-executing under `ulimit -n {needed}`"
    );
    let err = Command::new("/bin/sh")
        .arg("-c")
        .arg("ulimit -n \"$0\" && exec \"$@\"")
        .arg(needed.to_string())
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(REEXEC_ENV, "1")
        .exec();
    Err(err).context("re-executing under a higher `ulimit -n`")
}
