//! A summary as ZooKeeper's metrics have them: count, sum, min, max and
//! average since the start (or the last `srst`), and quantiles over the
//! last one to two minutes, so a dashboard shows today's latency rather
//! than the average of the server's whole life.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// How long a window of samples lasts; quantiles cover the current
/// window and the one before it.
const WINDOW: Duration = Duration::from_secs(60);

/// Values above this (in the summary's unit, ms or a count) are recorded
/// as this: an hour of latency, a batch of a million.
const HIGHEST: u64 = 3_600_000;

/// The quantiles a summary reports: BASIC the median only, ADVANCED
/// also the tail (ZooKeeper's `SummaryLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Basic,
    Advanced,
}

#[derive(Debug)]
pub struct Summary {
    level: Level,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
    current: Histogram<u64>,
    previous: Histogram<u64>,
    window_started: Instant,
}

/// What a summary holds at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub level: Level,
    pub count: u64,
    pub sum: u64,
    pub min: u64,
    pub max: u64,
    /// (quantile, value) for the level's quantiles.
    pub quantiles: Vec<(f64, u64)>,
}

impl Snapshot {
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
}

fn histogram() -> Histogram<u64> {
    // Two significant figures: within 1% is all a dashboard shows, and
    // the histogram stays a few KiB.
    // The bounds are constants that hdrhistogram accepts (a test builds
    // one), so this cannot fail at run time.
    Histogram::new_with_bounds(1, HIGHEST, 2)
        .expect("1..=HIGHEST at 2 figures is a valid histogram")
}

impl Summary {
    pub fn new(level: Level) -> Summary {
        Summary {
            level,
            inner: Mutex::new(Inner::new()),
        }
    }

    pub fn record(&self, value: u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.rotate(Instant::now());
        inner.count += 1;
        inner.sum = inner.sum.saturating_add(value);
        inner.min = inner.min.min(value);
        inner.max = inner.max.max(value);
        let _ = inner.current.record(value.clamp(1, HIGHEST));
    }

    pub fn record_duration(&self, elapsed: Duration) {
        self.record(elapsed.as_millis() as u64);
    }

    pub fn snapshot(&self) -> Snapshot {
        let quantiles: &[f64] = match self.level {
            Level::Basic => &[0.5],
            Level::Advanced => &[0.5, 0.9, 0.95, 0.99, 0.999],
        };
        let Ok(mut inner) = self.inner.lock() else {
            return Snapshot {
                level: self.level,
                count: 0,
                sum: 0,
                min: 0,
                max: 0,
                quantiles: Vec::new(),
            };
        };
        inner.rotate(Instant::now());
        let mut window = inner.previous.clone();
        let _ = window.add(&inner.current);
        let quantiles = quantiles
            .iter()
            .map(|&q| {
                let v = if window.is_empty() {
                    0
                } else {
                    window.value_at_quantile(q)
                };
                (q, v)
            })
            .collect();
        Snapshot {
            level: self.level,
            count: inner.count,
            sum: inner.sum,
            min: if inner.count == 0 { 0 } else { inner.min },
            max: inner.max,
            quantiles,
        }
    }

    pub fn reset(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner = Inner::new();
        }
    }
}

impl Inner {
    fn new() -> Inner {
        Inner {
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            current: histogram(),
            previous: histogram(),
            window_started: Instant::now(),
        }
    }

    fn rotate(&mut self, now: Instant) {
        let age = now.saturating_duration_since(self.window_started);
        if age < WINDOW {
            return;
        }
        if age < 2 * WINDOW {
            std::mem::swap(&mut self.previous, &mut self.current);
        } else {
            self.previous.reset();
        }
        self.current.reset();
        self.window_started = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sums_and_finds_quantiles() {
        let s = Summary::new(Level::Advanced);
        for v in 1..=100 {
            s.record(v);
        }
        let snap = s.snapshot();
        assert_eq!(
            (snap.count, snap.sum, snap.min, snap.max),
            (100, 5050, 1, 100)
        );
        assert!((snap.avg() - 50.5).abs() < 1e-9);
        let q = |want: f64| {
            snap.quantiles
                .iter()
                .find(|(q, _)| *q == want)
                .map(|(_, v)| *v)
        };
        assert_eq!(q(0.5), Some(50));
        assert_eq!(q(0.99), Some(99));
    }

    #[test]
    fn an_empty_summary_reads_zero_and_reset_empties() {
        let s = Summary::new(Level::Basic);
        assert_eq!(s.snapshot().min, 0);
        assert_eq!(s.snapshot().quantiles, vec![(0.5, 0)]);
        s.record(7);
        s.reset();
        assert_eq!(s.snapshot().count, 0);
    }

    #[test]
    fn quantiles_forget_old_windows() {
        let mut inner = Inner::new();
        let _ = inner.current.record(500);
        let start = inner.window_started;
        inner.rotate(start + WINDOW);
        assert_eq!(inner.previous.len(), 1, "the last window is kept");
        inner.rotate(start + 3 * WINDOW + WINDOW);
        assert_eq!(inner.previous.len() + inner.current.len(), 0);
    }
}
