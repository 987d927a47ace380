"""Shared fixtures for the kazoo interoperability suite.

Environment:
  ZK_HOSTS                  server address, e.g. 127.0.0.1:21990 (default 127.0.0.1:2181)
  ZK_SUPER_DIGEST_PASSWORD  super user credential: either "super:<password>" or just
                            "<password>"; enables the super-user tests (skipped otherwise)
  ZK_QUOTA_ENFORCED         "1" (default) if the server enforces hard quotas
                            (Apache: enforceQuota=true); "0" skips enforcement tests
  ZK_EXTENDED_TYPES         "1" (default) if TTL nodes are enabled
                            (Apache: extendedTypesEnabled=true); "0" skips TTL tests

Every test works below its own unique root (/interop-<uuid>), so the suite can run
against a shared server, in any order, repeatedly.
"""

import os
import sys
import time
import uuid

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError, NoNodeError, NotEmptyError
from kazoo.retry import KazooRetry

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

HOSTS = os.environ.get("ZK_HOSTS", "127.0.0.1:2181")

# Digest identities used by the ACL tests.  The cleanup client authenticates as
# all of them so that it can remove whatever the tests leave behind.
USERS = {"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret"}


def super_auth():
    v = os.environ.get("ZK_SUPER_DIGEST_PASSWORD")
    if not v:
        return None
    return v if v.startswith("super:") else "super:" + v


def env_flag(name, default="1"):
    return os.environ.get(name, default).strip().lower() not in ("0", "false", "no", "off", "")


def fast_retry():
    """Reconnect quickly (kazoo's default backoff grows to many seconds)."""
    return KazooRetry(max_tries=-1, delay=0.1, backoff=1, max_delay=0.5)


def wait_until(pred, timeout=10.0, interval=0.05, msg="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, msg))
        time.sleep(interval)


def host_port(hosts=HOSTS):
    first = hosts.split(",")[0].split("/")[0]
    h, _, p = first.rpartition(":")
    return h.strip("[]"), int(p)


def robust_delete(client, path):
    """Recursive delete that tolerates nodes we may not READ: deleting a leaf
    only needs DELETE on its parent, so on NoAuth from get_children we just try
    to delete the node itself."""
    try:
        children = client.get_children(path)
    except NoNodeError:
        return
    except NoAuthError:
        children = []
    for ch in children:
        robust_delete(client, path.rstrip("/") + "/" + ch)
    try:
        client.delete(path)
    except (NoNodeError, NotEmptyError, NoAuthError):
        pass


class ClientFactory:
    def __init__(self):
        self.clients = []

    def __call__(self, hosts=None, start=True, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("connection_retry", fast_retry())
        c = KazooClient(hosts or HOSTS, **kw)
        self.clients.append(c)
        if start:
            c.start(timeout=15)
        return c

    def close_all(self):
        for c in self.clients:
            try:
                c.stop()
            except Exception:
                pass
            try:
                c.close()
            except Exception:
                pass


@pytest.fixture
def make_client():
    """Factory for extra clients; all of them are stopped at teardown."""
    f = ClientFactory()
    yield f
    f.close_all()


@pytest.fixture
def zk(make_client):
    """A started client with no credentials."""
    return make_client()


@pytest.fixture
def root(make_client):
    """A fresh, unique root path (created, open ACL); removed afterwards."""
    path = "/interop-" + uuid.uuid4().hex
    admin = make_client()
    admin.create(path, b"")
    yield path
    cleaner = make_client()
    sa = super_auth()
    if sa:
        cleaner.add_auth("digest", sa)
    for u, pw in USERS.items():
        cleaner.add_auth("digest", "%s:%s" % (u, pw))
    robust_delete(cleaner, path)
    # Quota nodes written by the quota tests.
    robust_delete(cleaner, "/zookeeper/quota" + path)


@pytest.fixture
def super_zk(make_client):
    sa = super_auth()
    if not sa:
        pytest.skip("ZK_SUPER_DIGEST_PASSWORD not set")
    return make_client(auth_data=[("digest", sa)])


@pytest.fixture
def quota_enforced():
    if not env_flag("ZK_QUOTA_ENFORCED"):
        pytest.skip("ZK_QUOTA_ENFORCED=0")


@pytest.fixture
def extended_types():
    if not env_flag("ZK_EXTENDED_TYPES"):
        pytest.skip("ZK_EXTENDED_TYPES=0")
