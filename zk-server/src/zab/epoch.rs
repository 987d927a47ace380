//! `acceptedEpoch` and `currentEpoch` in dataDir, as ZooKeeper keeps them:
//! the epoch a server promised to (it will not ack an older leader) and
//! the epoch whose history it holds. Written durably before they are acted
//! on, or a restarted server could break a promise.

use std::io;
use std::path::Path;

use crate::persist::Storage;

pub const ACCEPTED: &str = "acceptedEpoch";
pub const CURRENT: &str = "currentEpoch";

/// The epoch in `name`, 0 when the file is missing.
pub fn read(storage: &dyn Storage, data_dir: &Path, name: &str) -> io::Result<u32> {
    let path = data_dir.join(name);
    if !storage.list(data_dir)?.iter().any(|n| n == name) {
        return Ok(0);
    }
    let text = String::from_utf8(storage.read(&path)?)
        .map_err(|_| io::Error::other(format!("{} is not text", path.display())))?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{} does not hold an epoch", path.display())))
}

/// Replaces `name` with `epoch`, durably (tmp file, sync, rename).
pub fn write(storage: &dyn Storage, data_dir: &Path, name: &str, epoch: u32) -> io::Result<()> {
    let tmp = data_dir.join(format!("{name}.tmp"));
    let mut f = storage.create(&tmp)?;
    f.write_at(0, epoch.to_string().as_bytes())?;
    f.sync()?;
    drop(f);
    storage.rename(&tmp, &data_dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::MemStorage;

    #[test]
    fn missing_is_zero_and_writes_read_back() {
        let s = MemStorage::default();
        let dir = Path::new("/d");
        assert_eq!(read(&s, dir, CURRENT).unwrap(), 0);
        write(&s, dir, CURRENT, 7).unwrap();
        write(&s, dir, ACCEPTED, 8).unwrap();
        s.crash();
        assert_eq!(read(&s, dir, CURRENT).unwrap(), 7);
        assert_eq!(read(&s, dir, ACCEPTED).unwrap(), 8);
    }
}
