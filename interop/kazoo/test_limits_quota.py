"""Packet size limit, quotas (written the way zkCli's setquota writes them),
and the /zookeeper system subtree."""

import pytest
from kazoo.exceptions import (
    ConnectionLoss,
    KazooException,
    QuotaExceededError,
    RolledBackError,
    RuntimeInconsistency,
)

ONE_MB = 1024 * 1024


def test_data_just_under_1mb(zk, root):
    """jute.maxbuffer defaults to 0xfffff (1 MiB - 1) for the *whole request
    packet*, so data of 1 MiB - 1 KiB (plus path/ACL overhead) must work, for
    create, set and get."""
    p = root + "/big"
    blob = bytes(range(256)) * ((ONE_MB - 1024) // 256)
    zk.create(p, blob)
    data, st = zk.get(p)
    assert data == blob and st.dataLength == len(blob)
    blob2 = blob[::-1]
    zk.set(p, blob2)
    assert zk.get(p)[0] == blob2
    kids, _ = zk.get_children(root, include_data=True)
    assert kids == ["big"]


@pytest.mark.parametrize("size", [ONE_MB, ONE_MB + 1, 2 * ONE_MB])
def test_data_over_1mb_rejected_server_survives(make_client, root, size):
    """Apache closes the connection of a client that sends a packet longer than
    jute.maxbuffer (kazoo: ConnectionLoss; the session survives and kazoo
    reconnects).  A server that answers with an error code instead is accepted.
    Either way nothing may be written and the server must keep serving."""
    c = make_client()
    c.create(root + "/set-target", b"small")
    with pytest.raises((ConnectionLoss, KazooException)):
        c.create(root + "/too-big", b"x" * size)
    with pytest.raises((ConnectionLoss, KazooException)):
        c.set(root + "/set-target", b"y" * size)
    fresh = make_client()
    assert fresh.exists(root + "/too-big") is None
    assert fresh.get(root + "/set-target")[0] == b"small"
    fresh.create(root + "/after", b"ok")
    assert fresh.get(root + "/after")[0] == b"ok"


# ---- quotas ---------------------------------------------------------------------


def quota_paths(path):
    q = "/zookeeper/quota" + path
    return q, q + "/zookeeper_limits", q + "/zookeeper_stats"


def set_quota(zk, path, count=-1, nbytes=-1, count_hard=-1, bytes_hard=-1):
    """Do what zkCli 3.8 `setquota` does for a path without a quota:
    create /zookeeper/quota<path>, then the limits node (StatsTrack string),
    then the stats node with count=0,bytes=0 -- on creation of the stats node
    the server recomputes it from the subtree."""
    q, limits, stats = quota_paths(path)
    zk.ensure_path(q)
    data = "count=%d,bytes=%d=;byteHardLimit=%d;countHardLimit=%d" % (count, nbytes, bytes_hard, count_hard)
    zk.create(limits, data.encode())
    zk.create(stats, b"count=0,bytes=0")
    return limits, stats


def parse_stats(b):
    """Parse a StatsTrack string like Apache does: split on [,;]+ then '='."""
    import re

    out = {}
    for kv in re.split(r"[,;]+", b.decode()):
        if not kv:
            continue
        parts = [x for x in kv.split("=") if x != ""]
        out[parts[0]] = int(parts[1]) if len(parts) > 1 else -1
    return out


def test_quota_stats_node_tracks_subtree(zk, root):
    zk.create(root + "/a", b"12345")
    limits, stats = set_quota(zk, root, count=100)
    # root + a, 5 bytes of data (node names are not counted)
    assert zk.get(stats)[0] == b"count=2,bytes=5"
    zk.create(root + "/b", b"123")
    zk.create(root + "/a/c", b"")
    assert parse_stats(zk.get(stats)[0]) == {"count": 4, "bytes": 8}
    zk.set(root + "/a", b"1")
    assert parse_stats(zk.get(stats)[0]) == {"count": 4, "bytes": 4}
    zk.delete(root + "/a", recursive=True)
    assert parse_stats(zk.get(stats)[0]) == {"count": 2, "bytes": 3}
    assert zk.get(limits)[0] == b"count=100,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"


def test_soft_quota_not_enforced(zk, root, quota_enforced):
    set_quota(zk, root, count=2, nbytes=3)
    for i in range(4):
        zk.create(root + "/n%d" % i, b"0123456789")  # over both soft limits: only logged
    assert len(zk.get_children(root)) == 4


def test_count_hard_quota(zk, root, quota_enforced):
    # the quota root itself counts: root + 2 children = 3
    set_quota(zk, root, count_hard=3)
    zk.create(root + "/c1")
    zk.create(root + "/c2")
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/c3")
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/c1/deep")  # anywhere in the subtree
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/e", ephemeral=True)
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/s", sequence=True)
    assert sorted(zk.get_children(root)) == ["c1", "c2"]
    # in a multi: the failing op carries QuotaExceededError
    t = zk.transaction()
    t.set_data(root + "/c1", b"x")
    t.create(root + "/c4")
    t.create(root + "/c5")
    res = t.commit()
    assert [type(r) for r in res] == [RolledBackError, QuotaExceededError, RuntimeInconsistency]
    assert zk.get(root + "/c1")[0] == b""
    # after freeing a slot, creation works again
    zk.delete(root + "/c2")
    zk.create(root + "/c3")


def test_bytes_hard_quota(zk, root, quota_enforced):
    zk.create(root + "/a", b"12345")
    set_quota(zk, root, bytes_hard=10)
    zk.create(root + "/b", b"12345")  # exactly 10
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/c", b"1")
    with pytest.raises(QuotaExceededError):
        zk.set(root + "/a", b"123456")
    zk.set(root + "/a", b"1234")  # shrinking is fine
    zk.create(root + "/c", b"1")
    zk.create(root + "/empty", b"")
    assert zk.get(root + "/a")[0] == b"1234"


def test_quota_limits_update_and_removal(zk, root, quota_enforced):
    limits, stats = set_quota(zk, root, count_hard=100)
    zk.create(root + "/a")
    # zkCli setquota on an existing quota does setData on the limits node
    zk.set(limits, b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2")
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/b")
    # zkCli delquota (without options) deletes the whole quota subtree
    zk.delete("/zookeeper/quota" + root, recursive=True)
    zk.create(root + "/b")
    zk.create(root + "/c")


def test_legacy_limits_format(zk, root, quota_enforced):
    """Pre-3.7 limits nodes hold just "count=N,bytes=M" (soft limits only)."""
    q, limits, stats = quota_paths(root)
    zk.ensure_path(q)
    zk.create(limits, b"count=1,bytes=-1")
    zk.create(stats, b"count=0,bytes=0")
    zk.create(root + "/a")
    zk.create(root + "/b")
    assert parse_stats(zk.get(stats)[0])["count"] == 3


def test_quota_on_nested_path(zk, root, quota_enforced):
    zk.create(root + "/x/y", makepath=True)
    set_quota(zk, root + "/x/y", count_hard=2)
    zk.create(root + "/x/y/1")
    with pytest.raises(QuotaExceededError):
        zk.create(root + "/x/y/2")
    zk.create(root + "/x/sibling")  # outside the quota subtree


# ---- system nodes ------------------------------------------------------------------


def test_system_nodes_exist(zk):
    assert zk.exists("/zookeeper") is not None
    assert zk.exists("/zookeeper/quota") is not None
    assert zk.exists("/zookeeper/config") is not None
    assert {"config", "quota"} <= set(zk.get_children("/zookeeper"))
    root_children = zk.get_children("/")
    assert "zookeeper" in root_children
    data, st = zk.get("/zookeeper/config")
    assert isinstance(data, bytes)  # empty in standalone without dynamic config
    st = zk.exists("/")
    assert st.czxid == 0 and st.ephemeralOwner == 0
    st = zk.exists("/zookeeper")
    assert st.czxid == 0 and st.ctime == 0


def test_system_node_stats_are_synthetic(zk):
    """The built-in nodes are never created by a transaction: czxid=0,
    ctime=0.  (Apache shows cversion -2 on a pristine /zookeeper: the visible
    cversion is 2*creates - numChildren, see test_sequence_counter_*; not
    asserted here.)"""
    st = zk.exists("/zookeeper")
    assert (st.czxid, st.ctime) == (0, 0)
    cfg = zk.exists("/zookeeper/config")
    assert cfg.czxid == 0
    # /zookeeper/config is created with aversion -1 in standalone Apache 3.8
    assert cfg.aversion in (-1, 0)
