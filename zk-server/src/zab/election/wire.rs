//! A notification's bytes on the election port.

use bytes::{Bytes, BytesMut};
use zk_proto::DecodeError;
use zk_proto::codec::{Decode, Encode};

use super::fle::{Notification, PeerState, Vote};

/// Largest election frame.
pub const MAX: usize = 256;

pub fn encode(n: &Notification) -> Bytes {
    let mut b = BytesMut::with_capacity(48);
    (n.sid as i64).encode(&mut b);
    let state: i32 = match n.state {
        PeerState::Looking => 0,
        PeerState::Following => 1,
        PeerState::Leading => 2,
        PeerState::Observing => 3,
    };
    state.encode(&mut b);
    (n.vote.leader as i64).encode(&mut b);
    n.vote.zxid.encode(&mut b);
    (n.election_epoch as i64).encode(&mut b);
    (n.vote.peer_epoch as i32).encode(&mut b);
    b.freeze()
}

pub fn decode(mut b: Bytes) -> Result<Notification, DecodeError> {
    let sid = i64::decode(&mut b)? as u64;
    let state = match i32::decode(&mut b)? {
        0 => PeerState::Looking,
        1 => PeerState::Following,
        2 => PeerState::Leading,
        3 => PeerState::Observing,
        _ => return Err(DecodeError::Invalid("peer state")),
    };
    let leader = i64::decode(&mut b)? as u64;
    let zxid = i64::decode(&mut b)?;
    let election_epoch = i64::decode(&mut b)? as u64;
    let peer_epoch = i32::decode(&mut b)? as u32;
    Ok(Notification {
        sid,
        state,
        vote: Vote {
            leader,
            zxid,
            peer_epoch,
        },
        election_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_input() {
        let n = Notification {
            sid: 3,
            state: PeerState::Leading,
            vote: Vote {
                leader: 3,
                zxid: 0x2_0000_0005,
                peer_epoch: 2,
            },
            election_epoch: 9,
        };
        assert_eq!(decode(encode(&n)).unwrap(), n);
        assert!(decode(Bytes::from_static(&[0, 1])).is_err());
    }
}
