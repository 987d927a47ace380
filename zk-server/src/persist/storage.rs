//! Where the bytes go: a directory of files, behind a trait with two
//! implementations. `FileStorage` is the disk. `MemStorage` keeps what was
//! synced apart from what was only written, so a test (or the replication
//! simulation) can crash it and lose exactly the unsynced bytes.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One open file: positioned writes, length changes, durable sync.
pub trait StorageFile: Send + std::fmt::Debug {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    fn len(&self) -> io::Result<u64>;
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Returns once everything written is durable.
    fn sync(&mut self) -> io::Result<()>;
}

/// A directory of files.
pub trait Storage: Send + Sync + std::fmt::Debug + 'static {
    /// File names in `dir` (not paths), unsorted; empty if `dir` is missing.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates (or truncates) a file, with its directory.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens an existing file for writing.
    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from`, durably.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn size(&self, path: &Path) -> io::Result<u64>;
    /// An in-memory storage: its work runs inline, not on blocking
    /// threads, so a simulation stays on one thread and replays exactly.
    fn simulated(&self) -> bool {
        false
    }
}

/// Real files. Every error names what was being done and to which path
/// (an io::Error alone says "No such file or directory" and not where).
#[derive(Debug, Default, Clone)]
pub struct FileStorage;

#[derive(Debug)]
struct RealFile {
    file: std::fs::File,
    path: PathBuf,
}

/// `op path: error`, keeping the error's kind for callers that match on it.
fn at<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| io::Error::new(e.kind(), format!("{op} {}: {e}", path.display()))
}

impl StorageFile for RealFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.file, buf, offset)
            .map_err(at("write", &self.path))
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len).map_err(at("resize", &self.path))
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata().map_err(at("stat", &self.path))?.len())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data().map_err(at("fsync", &self.path))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(at("fsync directory", dir))
}

impl Storage for FileStorage {
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        match std::fs::read_dir(dir) {
            Ok(entries) => Ok(entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(at("list", dir)(e)),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path).map_err(at("read", path))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(at("create directory", dir))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(at("create", path))?;
        // The new name must survive a crash too.
        sync_dir(dir)?;
        Ok(Box::new(RealFile {
            file,
            path: path.to_owned(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(at("open", path))?;
        Ok(Box::new(RealFile {
            file,
            path: path.to_owned(),
        }))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path).map_err(at("remove", path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to).map_err(at("rename", from))?;
        sync_dir(to.parent().unwrap_or(Path::new(".")))
    }

    fn size(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path).map_err(at("stat", path))?.len())
    }
}

#[derive(Debug, Default, Clone)]
struct MemFile {
    /// What survives a crash.
    synced: Vec<u8>,
    /// What readers see now.
    current: Vec<u8>,
}

/// Files in memory, with a crash that forgets unsynced writes.
#[derive(Debug, Default, Clone)]
pub struct MemStorage {
    /// std Mutex: short sections, no awaits (storage calls are blocking).
    files: Arc<Mutex<BTreeMap<PathBuf, MemFile>>>,
}

#[derive(Debug)]
struct MemHandle {
    files: Arc<Mutex<BTreeMap<PathBuf, MemFile>>>,
    path: PathBuf,
}

fn poisoned() -> io::Error {
    io::Error::other("storage lock poisoned")
}

impl MemHandle {
    fn with<T>(&self, f: impl FnOnce(&mut MemFile) -> T) -> io::Result<T> {
        let mut files = self.files.lock().map_err(|_| poisoned())?;
        let file = files
            .get_mut(&self.path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        Ok(f(file))
    }
}

impl StorageFile for MemHandle {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.with(|f| {
            let end = offset as usize + buf.len();
            if f.current.len() < end {
                f.current.resize(end, 0);
            }
            f.current[offset as usize..end].copy_from_slice(buf);
        })
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.with(|f| f.current.resize(len as usize, 0))
    }

    fn len(&self) -> io::Result<u64> {
        self.with(|f| f.current.len() as u64)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.with(|f| f.synced = f.current.clone())
    }
}

impl MemStorage {
    /// Loses every write that was not synced, as a power cut would.
    pub fn crash(&self) {
        if let Ok(mut files) = self.files.lock() {
            for f in files.values_mut() {
                f.current = f.synced.clone();
            }
        }
    }

    /// Direct access for tests that damage files.
    pub fn edit(&self, path: &Path, f: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        let mut files = self.files.lock().map_err(|_| poisoned())?;
        let file = files
            .get_mut(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        f(&mut file.current);
        file.synced = file.current.clone();
        Ok(())
    }
}

impl Storage for MemStorage {
    fn simulated(&self) -> bool {
        true
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let files = self.files.lock().map_err(|_| poisoned())?;
        Ok(files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let files = self.files.lock().map_err(|_| poisoned())?;
        files
            .get(path)
            .map(|f| f.current.clone())
            .ok_or_else(|| io::ErrorKind::NotFound.into())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut files = self.files.lock().map_err(|_| poisoned())?;
        files.insert(path.to_owned(), MemFile::default());
        Ok(Box::new(MemHandle {
            files: self.files.clone(),
            path: path.to_owned(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let files = self.files.lock().map_err(|_| poisoned())?;
        if !files.contains_key(path) {
            return Err(io::ErrorKind::NotFound.into());
        }
        Ok(Box::new(MemHandle {
            files: self.files.clone(),
            path: path.to_owned(),
        }))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut files = self.files.lock().map_err(|_| poisoned())?;
        files
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::ErrorKind::NotFound.into())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = self.files.lock().map_err(|_| poisoned())?;
        let mut f = files
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        // A rename is durable with what was synced before it.
        f.synced = f.current.clone();
        files.insert(to.to_owned(), f);
        Ok(())
    }

    fn size(&self, path: &Path) -> io::Result<u64> {
        self.read(path).map(|b| b.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loses_exactly_the_unsynced_bytes() -> io::Result<()> {
        let s = MemStorage::default();
        let p = Path::new("/d/f");
        let mut f = s.create(p)?;
        f.write_at(0, b"abc")?;
        f.sync()?;
        f.write_at(3, b"def")?;
        assert_eq!(s.read(p)?, b"abcdef");
        s.crash();
        assert_eq!(s.read(p)?, b"abc");
        assert_eq!(s.list(Path::new("/d"))?, vec!["f".to_owned()]);
        Ok(())
    }
}
