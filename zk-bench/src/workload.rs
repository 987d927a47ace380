//! The workloads and the one operation each task repeats.

use std::str::FromStr;

use zk_client::{Client, CreateMode, CreateOptions, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Read,
    Write,
    /// The percentage of reads; the rest are setData.
    Mixed(u8),
    Create,
    Delete,
    Lock,
    /// Sessions watching one node while one writer changes it.
    Watch(usize),
    /// Znodes to create, and over how many parents.
    Load {
        znodes: u64,
        parents: u64,
    },
    /// setData ops per multi.
    Multi(usize),
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Workload, String> {
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or_default();
        let mut number = |what: &str, default: Option<u64>| -> Result<u64, String> {
            match parts.next() {
                Some(n) => n.parse().map_err(|e| format!("{s}: {what}: {e}")),
                None => default.ok_or_else(|| format!("{s}: needs {what} ({name}:{what})")),
            }
        };
        let workload = match name {
            "read" => Workload::Read,
            "write" => Workload::Write,
            "mixed" => {
                let pct = number("READ_PERCENT", None)?;
                if pct > 100 {
                    return Err(format!("{s}: a percentage is at most 100"));
                }
                Workload::Mixed(pct as u8)
            }
            "create" => Workload::Create,
            "delete" => Workload::Delete,
            "lock" => Workload::Lock,
            "watch" => Workload::Watch(number("WATCHERS", Some(10))?.max(1) as usize),
            "load" => {
                let znodes = number("ZNODES", None)?;
                let parents = number("PARENTS", Some(1))?.max(1);
                Workload::Load { znodes, parents }
            }
            "multi" => Workload::Multi(number("OPS", Some(10))?.max(1) as usize),
            other => {
                return Err(format!(
                    "unknown workload {other}: read, write, mixed:N, create, delete, lock, watch:N, load:N[:P], multi:K"
                ));
            }
        };
        Ok(workload)
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Workload::Read => write!(f, "read"),
            Workload::Write => write!(f, "write"),
            Workload::Mixed(p) => write!(f, "mixed:{p}"),
            Workload::Create => write!(f, "create"),
            Workload::Delete => write!(f, "delete"),
            Workload::Lock => write!(f, "lock"),
            Workload::Watch(n) => write!(f, "watch:{n}"),
            Workload::Load { znodes, parents } => write!(f, "load:{znodes}:{parents}"),
            Workload::Multi(k) => write!(f, "multi:{k}"),
        }
    }
}

/// What one task needs to issue its operations.
#[derive(Debug)]
pub struct Task {
    pub id: usize,
    pub client: Client,
    pub root: String,
    pub keys: usize,
    pub payload: Vec<u8>,
    pub rng: fastrand::Rng,
    /// Nodes this task made and has not deleted yet (delete workload).
    pub own: Vec<String>,
    pub seq: u64,
}

impl Task {
    fn key(&mut self) -> String {
        format!("{}/k{}", self.root, self.rng.usize(..self.keys.max(1)))
    }

    /// One operation of `workload` (not watch or load, which run their
    /// own loops): its name, or None when the task has nothing left to do.
    pub async fn once(&mut self, workload: Workload) -> Option<Result<&'static str, Error>> {
        let done = match workload {
            Workload::Read => {
                let key = self.key();
                self.client.get_data(&key).await.map(|_| "get")
            }
            Workload::Write => {
                let key = self.key();
                self.client
                    .set_data(&key, &self.payload, None)
                    .await
                    .map(|_| "set")
            }
            Workload::Mixed(pct) => {
                let key = self.key();
                if self.rng.u8(..100) < pct {
                    self.client.get_data(&key).await.map(|_| "get")
                } else {
                    self.client
                        .set_data(&key, &self.payload, None)
                        .await
                        .map(|_| "set")
                }
            }
            Workload::Create => {
                self.seq += 1;
                let path = format!("{}/c/t{}-{}", self.root, self.id, self.seq);
                self.client
                    .create(&path, &self.payload, &CreateOptions::persistent())
                    .await
                    .map(|_| "create")
            }
            Workload::Delete => {
                let path = self.own.pop()?;
                self.client.delete(&path, None).await.map(|()| "delete")
            }
            Workload::Lock => self.lock_cycle().await.map(|()| "lock"),
            Workload::Multi(k) => {
                let mut multi = self.client.multi();
                for _ in 0..k {
                    let key = self.key();
                    multi = multi.set_data(&key, &self.payload, None);
                }
                multi.commit().await.map(|_| "multi")
            }
            Workload::Watch(_) | Workload::Load { .. } => return None,
        };
        Some(done)
    }

    /// A lock taken and released as the lock recipe does it without
    /// contention: an EPHEMERAL_SEQUENTIAL node, the children to see it
    /// is the lowest, the node deleted.
    async fn lock_cycle(&mut self) -> Result<(), Error> {
        let dir = format!("{}/lock", self.root);
        let (path, _) = self
            .client
            .create(
                &format!("{dir}/lock-"),
                b"",
                &CreateOptions::new(CreateMode::EphemeralSequential),
            )
            .await?;
        self.client.get_children(&dir).await?;
        self.client.delete(&path, None).await
    }

    /// The delete workload's nodes, made before the clock starts.
    pub async fn prepare_deletes(&mut self, count: usize) -> Result<(), Error> {
        for i in 0..count {
            let path = format!("{}/c/d{}-{i}", self.root, self.id);
            self.client
                .create(&path, b"", &CreateOptions::persistent())
                .await?;
            self.own.push(path);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_parse_and_print_back() {
        for text in [
            "read",
            "write",
            "mixed:90",
            "create",
            "delete",
            "lock",
            "watch:5",
            "load:1000:10",
            "multi:4",
        ] {
            let w: Workload = text.parse().expect(text);
            assert_eq!(w.to_string(), text);
        }
        assert_eq!(
            "load:50".parse(),
            Ok(Workload::Load {
                znodes: 50,
                parents: 1
            })
        );
        assert_eq!("watch".parse(), Ok(Workload::Watch(10)));
        assert!("mixed".parse::<Workload>().is_err());
        assert!("mixed:101".parse::<Workload>().is_err());
        assert!("nope".parse::<Workload>().is_err());
    }
}
