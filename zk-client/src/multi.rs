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
    Create { path: String, stat: Option<Stat> },
    Delete,
    SetData { stat: Stat },
    Check,
}

/// Writes applied together or not at all.
///
/// ```no_run
/// # async fn demo(client: zk_client::Client) -> Result<(), zk_client::Error> {
/// use zk_client::CreateOptions;
/// let results = client
///     .multi()
///     .check("/config", 3)
///     .set_data("/config", b"v4", Some(3))
///     .create("/config-history/v4", b"", &CreateOptions::persistent())
///     .commit()
///     .await?;
/// assert_eq!(results.len(), 3);
/// # Ok(()) }
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

    pub fn delete(self, path: &str, version: Option<i32>) -> Self {
        self.push(path, false, |path| {
            Request::Delete(DeleteRequest {
                path,
                version: version.unwrap_or(-1),
            })
        })
    }

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

    pub fn check(self, path: &str, version: i32) -> Self {
        self.push(path, false, |path| {
            Request::Check(CheckVersionRequest { path, version })
        })
    }

    /// Sends the multi (now). A failure names the op that failed:
    /// `Error::Multi { index, source }`; nothing was applied.
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
    Data { data: Vec<u8>, stat: Stat },
    Children { children: Vec<String> },
}

/// Reads in one round trip; each has its own result.
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

    pub fn get_data(self, path: &str) -> Self {
        self.push(path, Request::GetData)
    }

    pub fn get_children(self, path: &str) -> Self {
        self.push(path, Request::GetChildren)
    }

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
