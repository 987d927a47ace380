//! A leader-learner connection: frames of [`PeerMsg`] over a stream, every
//! read and write bounded in time, so a peer that crashed or was cut off
//! ends the connection instead of holding a task forever.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_util::codec::Framed;
use zk_proto::frame::FrameCodec;

use super::message::{PEER_FRAME_MAX, PeerMsg};
use crate::net::transport::Stream;

pub type Frames = Framed<Stream, FrameCodec>;

pub fn frames(stream: Stream) -> Frames {
    Framed::new(stream, FrameCodec::new(PEER_FRAME_MAX))
}

/// The largest frame a connection that has not shown itself a learner of
/// this ensemble may send (LearnerInfo and AckEpoch are a few bytes): the
/// peer port does not buffer a gigabyte for whoever connects.
const UNKNOWN_FRAME_MAX: usize = 4096;

/// Frames of a connection accepted on the peer port, small until
/// [`trust`] says otherwise.
pub fn frames_of_unknown(stream: Stream) -> Frames {
    Framed::new(stream, FrameCodec::new(UNKNOWN_FRAME_MAX))
}

/// The peer showed itself a learner of this ensemble: full-size frames.
pub fn trust(frames: &mut Frames) {
    *frames.codec_mut() = FrameCodec::new(PEER_FRAME_MAX);
}

/// The next message; `peer` names the other side in the error.
pub async fn recv(frames: &mut Frames, within: Duration, peer: &str) -> Result<PeerMsg, String> {
    match tokio::time::timeout(within, frames.next()).await {
        Err(_) => Err(format!("{peer} silent")),
        Ok(None) => Err(format!("{peer} closed the connection")),
        Ok(Some(Err(e))) => Err(e.to_string()),
        Ok(Some(Ok(bytes))) => PeerMsg::decode(bytes).map_err(|e| e.to_string()),
    }
}

/// Sends one message; a peer that does not take it within `within` is lost.
pub async fn send(
    frames: &mut Frames,
    msg: &PeerMsg,
    within: Duration,
    peer: &str,
) -> Result<(), String> {
    match tokio::time::timeout(within, frames.send(msg.encode())).await {
        Ok(sent) => sent.map_err(|e| e.to_string()),
        Err(_) => Err(format!("{peer} not reading")),
    }
}
