"""Operations kazoo has no API for (sent raw through kazoo's connection):
TTL and container nodes, getEphemerals, getAllChildrenNumber, reconfig."""

import pytest
from kazoo.exceptions import (
    BadArgumentsError,
    NodeExistsError,
    NoNodeError,
    ReconfigDisabledError,
    UnimplementedError,
)
from kazoo.security import OPEN_ACL_UNSAFE

import zkraw
from conftest import env_flag

MAX_TTL = (1 << 40) - 1  # EphemeralType.TTL.maxValue()


def test_ttl_nodes(zk, root, extended_types):
    path, st = zkraw.call(zk, zkraw.CreateTTL(root + "/ttl", b"d", OPEN_ACL_UNSAFE, zkraw.PERSISTENT_WITH_TTL, 60000))
    assert path == root + "/ttl"
    # the TTL is encoded in the persisted ephemeralOwner but clients see 0
    assert st.ephemeralOwner == 0 and st.version == 0 and st.dataLength == 1
    assert zk.exists(path) == st
    assert zk.get(path)[0] == b"d"
    path, st = zkraw.call(
        zk, zkraw.CreateTTL(root + "/ttls-", b"", OPEN_ACL_UNSAFE, zkraw.PERSISTENT_SEQUENTIAL_WITH_TTL, 60000)
    )
    assert path == root + "/ttls-0000000001"
    zkraw.call(zk, zkraw.CreateTTL(root + "/ttlmax", b"", OPEN_ACL_UNSAFE, zkraw.PERSISTENT_WITH_TTL, MAX_TTL))
    with pytest.raises(NodeExistsError):
        zkraw.call(zk, zkraw.CreateTTL(root + "/ttl", b"", OPEN_ACL_UNSAFE, zkraw.PERSISTENT_WITH_TTL, 1000))
    # a TTL node can have children; deleting it works like any node
    zk.create(root + "/ttl/child")
    zk.delete(root + "/ttl", recursive=True)


@pytest.mark.parametrize(
    "flags,ttl",
    [
        (zkraw.PERSISTENT_WITH_TTL, 0),
        (zkraw.PERSISTENT_WITH_TTL, -1),
        (zkraw.PERSISTENT_WITH_TTL, MAX_TTL + 1),
        (zkraw.PERSISTENT, 1000),  # createTTL needs a TTL mode
        (zkraw.EPHEMERAL, 1000),
        (zkraw.CONTAINER, 1000),
    ],
)
def test_ttl_invalid(zk, root, extended_types, flags, ttl):
    with pytest.raises(BadArgumentsError):
        zkraw.call(zk, zkraw.CreateTTL(root + "/bad", b"", OPEN_ACL_UNSAFE, flags, ttl))
    assert zk.exists(root + "/bad") is None


def test_ttl_disabled():
    """Only meaningful when the server runs without extended types
    (ZK_EXTENDED_TYPES=0): Apache answers Unimplemented (-6)."""
    if env_flag("ZK_EXTENDED_TYPES"):
        pytest.skip("extended types enabled")
    from conftest import ClientFactory

    f = ClientFactory()
    try:
        zk = f()
        with pytest.raises(UnimplementedError):
            zkraw.call(zk, zkraw.CreateTTL("/interop-ttl-disabled", b"", OPEN_ACL_UNSAFE, 5, 1000))
    finally:
        f.close_all()


def test_container_node(zk, root):
    path, st = zkraw.call(zk, zkraw.CreateContainer(root + "/cont", b"c", OPEN_ACL_UNSAFE, zkraw.CONTAINER))
    assert path == root + "/cont"
    assert st.ephemeralOwner == 0  # container marker is hidden from clients
    zk.create(root + "/cont/child")
    assert zk.get_children(root + "/cont") == ["child"]
    # (the container reaper runs every 60 s by default: not waited for here)
    # Apache also accepts the CONTAINER flag on a plain create / create2
    path, st = zkraw.call(zk, zkraw.Create2Flags(root + "/cont2", b"", OPEN_ACL_UNSAFE, zkraw.CONTAINER))
    assert path == root + "/cont2" and st.ephemeralOwner == 0


def test_get_ephemerals(make_client, root):
    a = make_client()
    b = make_client()
    a.create(root + "/e1", ephemeral=True)
    a.create(root + "/x/e2", ephemeral=True, makepath=True)
    a.create(root + "/x/p")  # persistent: not listed
    b.create(root + "/b1", ephemeral=True)
    # only the caller's session; prefix is a plain string prefix
    assert sorted(zkraw.call(a, zkraw.GetEphemerals(root))) == [root + "/e1", root + "/x/e2"]
    assert zkraw.call(a, zkraw.GetEphemerals(root + "/x")) == [root + "/x/e2"]
    assert zkraw.call(a, zkraw.GetEphemerals(root + "/e")) == [root + "/e1"]
    assert zkraw.call(b, zkraw.GetEphemerals(root)) == [root + "/b1"]
    assert set(zkraw.call(a, zkraw.GetEphemerals("/"))) >= {root + "/e1", root + "/x/e2"}
    assert zkraw.call(a, zkraw.GetEphemerals(root + "/nope")) == []


def test_get_all_children_number(zk, root):
    assert zkraw.call(zk, zkraw.GetAllChildrenNumber(root)) == 0
    zk.create(root + "/a/b/c", makepath=True)
    zk.create(root + "/d")
    # all descendants, the node itself not included
    assert zkraw.call(zk, zkraw.GetAllChildrenNumber(root)) == 4
    assert zkraw.call(zk, zkraw.GetAllChildrenNumber(root + "/a")) == 2
    assert zkraw.call(zk, zkraw.GetAllChildrenNumber(root + "/d")) == 0
    with pytest.raises(NoNodeError):
        zkraw.call(zk, zkraw.GetAllChildrenNumber(root + "/missing"))


def test_reconfig_disabled(zk):
    """Standalone Apache with reconfigEnabled=false (the default)."""
    with pytest.raises(ReconfigDisabledError):
        zk.reconfig(joining="server.9=127.0.0.1:2888:3888;2181", leaving=None, new_members=None)
    with pytest.raises(ReconfigDisabledError):
        zk.reconfig(joining=None, leaving="1", new_members=None)
