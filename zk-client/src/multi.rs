//! multi (writes, all or nothing) and multiRead (reads, each on its own).

use std::future::Future;

use bytes::Bytes;
use zk_proto::client::{
    CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest, MultiResult,
    PathWatchRequest, Request, Response, SetDataRequest,
};

use crate::client::{Client, unexpected};
use crate::error::{Error, Result};
use crate::types::{CreateMode, CreateOptions, Stat};

/// The outcome of one op of a successful multi. A create's `stat` is `None`
/// from servers before 3.7.2 / 3.8.2 / 3.9.0, which answer a create inside
/// a multi with the path only (ZOOKEEPER-4026).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// A create: the created path (with the sequence suffix, if any).
    Create {
        /// The created path.
        path: String,
        /// The new node's stat, from servers that send it.
        stat: Option<Stat>,
    },
    /// A delete.
    Delete,
    /// A setData.
    SetData {
        /// The node's stat after the write.
        stat: Stat,
    },
    /// A version check that passed.
    Check,
}

/// Writes applied together or not at all.
///
/// A failure is `Error::Multi { index, source }`: the op at `index` failed
/// with `source`, and no op was applied. After a `ConnectionLoss` the
/// multi as a whole may or may not have been applied.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions, Error, OpResult};
///
/// let client = Client::connect(&servers).await?;
/// let (_, stat) = client.create("/config", b"v1", &CreateOptions::persistent()).await?;
/// client.create("/history", b"", &CreateOptions::persistent()).await?;
///
/// let results = client
///     .multi()
///     .check("/config", stat.version)
///     .set_data("/config", b"v2", Some(stat.version))
///     .create("/history/v2", b"", &CreateOptions::persistent())
///     .commit()
///     .await?;
/// assert_eq!(results[0], OpResult::Check);
/// assert!(matches!(&results[2], OpResult::Create { path, .. } if path == "/history/v2"));
///
/// // The same multi again: the version check fails, so nothing happens.
/// let failed = client
///     .multi()
///     .check("/config", stat.version)
///     .create("/history/v3", b"", &CreateOptions::persistent())
///     .commit()
///     .await;
/// assert_eq!(failed, Err(Error::Multi { index: 0, source: Box::new(Error::BadVersion) }));
/// assert!(client.exists("/history/v3").await?.is_none());
/// # Ok(()) });
/// ```
#[derive(Debug)]
pub struct MultiBuilder {
    client: Client,
    ops: Vec<Request>,
    error: Option<Error>,
}

impl MultiBuilder {
    pub(crate) fn new(client: Client) -> MultiBuilder {
        MultiBuilder {
            client,
            ops: Vec::new(),
            error: None,
        }
    }

    fn push(mut self, path: &str, sequential: bool, make: impl FnOnce(String) -> Request) -> Self {
        match self.client.chroot().apply(path, sequential) {
            Ok(p) => self.ops.push(make(p)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Adds a create (any mode, as [`Client::create`]).
    pub fn create(self, path: &str, data: &[u8], opts: &CreateOptions) -> Self {
        let data = Some(Bytes::copy_from_slice(data));
        let (acl, flags, mode, ttl) = (opts.acl.clone(), opts.mode.flags(), opts.mode, opts.ttl_ms);
        self.push(path, mode.is_sequential(), move |path| match (mode, ttl) {
            (CreateMode::Container, _) => Request::CreateContainer(CreateRequest {
                path,
                data,
                acl,
                flags,
            }),
            (m, Some(ttl)) if m.is_ttl() => Request::CreateTtl(CreateTtlRequest {
                path,
                data,
                acl,
                flags,
                ttl,
            }),
            _ => Request::Create2(CreateRequest {
                path,
                data,
                acl,
                flags,
            }),
        })
    }

    /// Adds a delete; `version` `None` matches any.
    pub fn delete(self, path: &str, version: Option<i32>) -> Self {
        self.push(path, false, |path| {
            Request::Delete(DeleteRequest {
                path,
                version: version.unwrap_or(-1),
            })
        })
    }

    /// Adds a setData; `version` `None` matches any.
    pub fn set_data(self, path: &str, data: &[u8], version: Option<i32>) -> Self {
        let data = Some(Bytes::copy_from_slice(data));
        self.push(path, false, |path| {
            Request::SetData(SetDataRequest {
                path,
                data,
                version: version.unwrap_or(-1),
            })
        })
    }

    /// Adds a check that the node is at `version` (-1: only that it
    /// exists); it makes the multi fail otherwise.
    pub fn check(self, path: &str, version: i32) -> Self {
        self.push(path, false, |path| {
            Request::Check(CheckVersionRequest { path, version })
        })
    }

    /// Sends the multi (now). A failure names the op that failed:
    /// `Error::Multi { index, source }`; nothing was applied. An invalid
    /// path in any op fails with `BadPath` before anything is sent.
    pub fn commit(self) -> impl Future<Output = Result<Vec<OpResult>>> + Send + use<> {
        let sent = match self.error {
            Some(e) => Err(e),
            None => Ok(self.client.raw(Request::Multi(self.ops))),
        };
        let chroot = self.client.chroot().clone();
        async move {
            let results = match sent?.await? {
                Response::Multi(results) => results,
                other => return Err(unexpected(other)),
            };
            if let Some((index, err)) = results.iter().enumerate().find_map(|(i, r)| match r {
                MultiResult::Error { err } if *err != 0 => Some((i, *err)),
                _ => None,
            }) {
                return Err(Error::Multi {
                    index,
                    source: Box::new(Error::code(err)),
                });
            }
            results
                .into_iter()
                .map(|r| match r {
                    MultiResult::Create2 { path, stat, .. } => Ok(OpResult::Create {
                        path: chroot.strip(&path),
                        stat: Some(stat),
                    }),
                    MultiResult::Create { path } => Ok(OpResult::Create {
                        path: chroot.strip(&path),
                        stat: None,
                    }),
                    MultiResult::Delete => Ok(OpResult::Delete),
                    MultiResult::SetData { stat } => Ok(OpResult::SetData { stat }),
                    MultiResult::Check => Ok(OpResult::Check),
                    other => Err(Error::Protocol(format!(
                        "unexpected multi result {other:?}"
                    ))),
                })
                .collect()
        }
    }
}

/// The outcome of one read of a multiRead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadResult {
    /// A getData.
    Data {
        /// The node's data (empty for null data).
        data: Vec<u8>,
        /// The node's stat.
        stat: Stat,
    },
    /// A getChildren.
    Children {
        /// The child names, unsorted.
        children: Vec<String>,
    },
}

/// Reads in one round trip; each has its own result (one failing does not
/// fail the others). No watches are set.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions, Error, ReadResult};
///
/// let client = Client::connect(&servers).await?;
/// client.create("/app", b"v1", &CreateOptions::persistent()).await?;
/// client.create("/app/a", b"", &CreateOptions::persistent()).await?;
///
/// let results = client
///     .multi_read()
///     .get_data("/app")
///     .get_children("/app")
///     .get_data("/missing")
///     .commit()
///     .await?;
/// assert!(matches!(&results[0], Ok(ReadResult::Data { data, .. }) if data == b"v1"));
/// assert_eq!(results[1], Ok(ReadResult::Children { children: vec!["a".to_owned()] }));
/// assert_eq!(results[2], Err(Error::NoNode));
/// # Ok(()) });
/// ```
#[derive(Debug)]
pub struct MultiReadBuilder {
    client: Client,
    ops: Vec<Request>,
    error: Option<Error>,
}

impl MultiReadBuilder {
    pub(crate) fn new(client: Client) -> MultiReadBuilder {
        MultiReadBuilder {
            client,
            ops: Vec::new(),
            error: None,
        }
    }

    fn push(mut self, path: &str, make: impl FnOnce(PathWatchRequest) -> Request) -> Self {
        match self.client.chroot().apply(path, false) {
            Ok(path) => self.ops.push(make(PathWatchRequest { path, watch: false })),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Adds a getData.
    pub fn get_data(self, path: &str) -> Self {
        self.push(path, Request::GetData)
    }

    /// Adds a getChildren.
    pub fn get_children(self, path: &str) -> Self {
        self.push(path, Request::GetChildren)
    }

    /// Sends the reads (now): one result per read, in order. The outer
    /// error is for the request as a whole (a `BadPath` before sending, a
    /// lost connection).
    pub fn commit(self) -> impl Future<Output = Result<Vec<Result<ReadResult>>>> + Send + use<> {
        let sent = match self.error {
            Some(e) => Err(e),
            None => Ok(self.client.raw(Request::MultiRead(self.ops))),
        };
        async move {
            let results = match sent?.await? {
                Response::Multi(results) => results,
                other => return Err(unexpected(other)),
            };
            Ok(results
                .into_iter()
                .map(|r| match r {
                    MultiResult::GetData { data, stat } => Ok(ReadResult::Data {
                        data: data.map(|d| d.to_vec()).unwrap_or_default(),
                        stat,
                    }),
                    MultiResult::GetChildren { children } => Ok(ReadResult::Children { children }),
                    MultiResult::Error { err } => Err(Error::code(err)),
                    other => Err(Error::Protocol(format!(
                        "unexpected multiRead result {other:?}"
                    ))),
                })
                .collect())
        }
    }
}
