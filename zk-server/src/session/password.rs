//! Session passwords, derived from the session id the way ZooKeeper does
//! (`ZooKeeperServer.generatePasswd`: `java.util.Random(id ^ 0xB3415C00)`,
//! 16 bytes), so any server of an ensemble can check a password without
//! storing it.

const SECRET: i64 = 0xB341_5C00;
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const MASK: u64 = (1 << 48) - 1;

/// `java.util.Random`, just enough of it for `nextBytes`.
struct JavaRandom(u64);

impl JavaRandom {
    fn new(seed: i64) -> JavaRandom {
        JavaRandom((seed as u64 ^ MULTIPLIER) & MASK)
    }

    fn next_int(&mut self) -> i32 {
        self.0 = (self.0.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (self.0 >> 16) as i32
    }

    fn next_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let mut rnd = self.next_int();
            for b in chunk {
                *b = rnd as u8;
                rnd >>= 8;
            }
        }
    }
}

pub fn password_for(session_id: i64) -> [u8; 16] {
    let mut out = [0; 16];
    JavaRandom::new(session_id ^ SECRET).next_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_the_jdk() {
        // new java.util.Random(42).nextInt() == -1170105035
        assert_eq!(JavaRandom::new(42).next_int(), -1_170_105_035);
        let mut bytes = [0u8; 4];
        // new Random(0).nextBytes(b) -> [96, -76, 32, -69]
        JavaRandom::new(0).next_bytes(&mut bytes);
        assert_eq!(bytes, [96, 0xb4, 32, 0xbb]);
    }

    #[test]
    fn passwords_differ_per_session() {
        assert_ne!(password_for(1), password_for(2));
        assert_eq!(password_for(7), password_for(7));
    }
}
