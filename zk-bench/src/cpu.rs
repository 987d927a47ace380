//! The CPU a process used, from /proc/PID/stat (utime + stime, in clock
//! ticks of 1/100 s: Linux's USER_HZ on every architecture we run on).

const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of `pid` in ticks, or None if it cannot be read.
pub fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields count from the
    // last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12
    // after the state (field 3) here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Cores used between two readings `seconds` apart.
pub fn cores(before: u64, after: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    let used = after.saturating_sub(before) as f64 / TICKS_PER_SECOND;
    (used / seconds * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        let before = ticks(pid).expect("own stat");
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_add(i ^ (x >> 3));
        }
        assert!(x != 1);
        let after = ticks(pid).expect("own stat");
        assert!(after >= before);
        assert_eq!(cores(100, 200, 1.0), 1.0);
        assert_eq!(ticks(u32::MAX), None);
    }
}
