//! A fixed-size set of call indexes, for the search and its memo.

/// A fixed-size set of call indexes.
#[derive(Debug, Clone)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    pub(super) fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    pub(super) fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub(super) fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    pub(super) fn of(members: impl Iterator<Item = bool>) -> Bits {
        let mut bits = Bits(Vec::new());
        for (i, member) in members.enumerate() {
            if i % 64 == 0 {
                bits.0.push(0);
            }
            if member {
                bits.set(i);
            }
        }
        bits
    }

    pub(super) fn and(&self, other: &Bits) -> Box<[u64]> {
        self.0.iter().zip(&other.0).map(|(a, b)| a & b).collect()
    }

    pub(super) fn or(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a | b).collect())
    }

    /// The words after the leading full ones, and how many those were:
    /// the known calls placed are mostly a prefix, so memo keys stay short.
    pub(super) fn tail(&self) -> (usize, Box<[u64]>) {
        let full = self.0.iter().take_while(|&&w| w == u64::MAX).count();
        (full, self.0[full..].into())
    }
}
