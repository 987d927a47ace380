//! zxid arithmetic: the epoch in the high 32 bits, a counter in the low 32
//! (each new leader starts its epoch's counter at 1).

pub fn epoch_of(zxid: i64) -> u32 {
    (zxid as u64 >> 32) as u32
}

pub fn counter_of(zxid: i64) -> u32 {
    zxid as u64 as u32
}

pub fn make(epoch: u32, counter: u32) -> i64 {
    ((u64::from(epoch) << 32) | u64::from(counter)) as i64
}

/// Whether `next` may directly follow `prev` in a history: the next
/// counter of the same epoch, or the first txn of a later epoch.
pub fn follows(prev: i64, next: i64) -> bool {
    next == prev + 1 || (epoch_of(next) > epoch_of(prev) && counter_of(next) == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_counters() {
        let z = make(3, 42);
        assert_eq!((epoch_of(z), counter_of(z)), (3, 42));
        assert!(follows(make(1, 5), make(1, 6)));
        assert!(follows(make(1, 5), make(4, 1)));
        assert!(follows(0, 1));
        assert!(follows(0, make(1, 1)));
        assert!(!follows(make(1, 5), make(1, 7)));
        assert!(!follows(make(1, 5), make(2, 2)));
        assert!(!follows(make(2, 5), make(1, 6)));
    }
}
