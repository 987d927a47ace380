"""CRUD operations, stat bookkeeping, sequential naming and path validation."""

import pytest
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    MarshallingError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    UnimplementedError,
)
from kazoo.protocol.serialization import Create, Delete, Exists, GetData, SetData
from kazoo.security import OPEN_ACL_UNSAFE

import zkraw
from conftest import env_flag


def test_create_plain_and_get(zk, root):
    p = root + "/plain"
    assert zk.create(p, b"hello") == p
    data, st = zk.get(p)
    assert data == b"hello"
    assert st.version == 0 and st.cversion == 0 and st.aversion == 0
    assert st.ephemeralOwner == 0
    assert st.dataLength == 5 and st.numChildren == 0
    assert st.czxid == st.mzxid == st.pzxid
    assert st.ctime == st.mtime and st.ctime > 0


def test_create_existing_and_missing_parent(zk, root):
    zk.create(root + "/a")
    with pytest.raises(NodeExistsError):
        zk.create(root + "/a")
    with pytest.raises(NoNodeError):
        zk.create(root + "/missing/child")
    # the root itself always exists
    with pytest.raises(NodeExistsError):
        zk.create("/")


def test_create_makepath(zk, root):
    p = root + "/x/y/z"
    assert zk.create(p, b"deep", makepath=True) == p
    assert zk.get(p)[0] == b"deep"
    assert zk.get(root + "/x/y")[0] == b""
    assert zk.get_children(root + "/x") == ["y"]


def test_create_include_data(zk, root):
    p = root + "/inc"
    path, st = zk.create(p, b"12345", include_data=True)  # Create2 (opcode 15)
    assert path == p
    assert st.dataLength == 5 and st.version == 0 and st.numChildren == 0
    assert st.czxid == st.mzxid == st.pzxid
    assert zk.exists(p) == st
    # sequential + include_data returns the generated name
    path, st = zk.create(root + "/incseq-", b"", sequence=True, include_data=True)
    assert path.startswith(root + "/incseq-") and len(path) == len(root + "/incseq-") + 10
    assert zk.exists(path) == st


def test_create_ephemeral(zk, root):
    p = root + "/eph"
    zk.create(p, b"e", ephemeral=True)
    st = zk.exists(p)
    assert st.ephemeralOwner == zk.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(p + "/child")
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(p + "/child", sequence=True)


def test_sequence_naming(zk, root):
    par = root + "/seq"
    zk.create(par)
    a = zk.create(par + "/n-", b"", sequence=True)
    assert a == par + "/n-0000000000"
    b = zk.create(par + "/n-", b"", sequence=True)
    assert b == par + "/n-0000000001"
    # suffix may follow a bare "/": the name is just the 10 digits
    c = zk.create(par + "/", b"", sequence=True)
    assert c == par + "/0000000002"
    e = zk.create(par + "/e-", b"", ephemeral=True, sequence=True)
    assert e == par + "/e-0000000003"
    assert zk.exists(e).ephemeralOwner == zk.client_id[0]
    assert sorted(zk.get_children(par)) == ["0000000002", "e-0000000003", "n-0000000000", "n-0000000001"]


def test_sequence_counter_counts_creates_not_cversion(zk, root):
    """The sequence number is the parent's *persisted* cversion, which Apache
    ZooKeeper only increments on child creation.  The cversion clients see is
    translated (DataNode.copyStat): visible = 2 * creates - numChildren, i.e.
    it counts creates + deletes.  Hence the next sequence number is
    (visible_cversion + numChildren) / 2, and deletes do not advance it."""
    par = root + "/cnt"
    zk.create(par)
    zk.create(par + "/x")
    zk.delete(par + "/x")
    st = zk.exists(par)
    assert st.cversion == 2 and st.numChildren == 0  # one create + one delete
    s = zk.create(par + "/s", sequence=True)
    assert s == par + "/s0000000001"  # not ...0002
    zk.create(par + "/y")
    zk.create(par + "/z")
    zk.delete(par + "/y")
    st = zk.exists(par)
    assert st.cversion == 6 and st.numChildren == 2
    nxt = (st.cversion + st.numChildren) // 2
    s = zk.create(par + "/s", sequence=True)
    assert s == par + "/s%010d" % nxt == par + "/s0000000004"


def test_sequence_counter_is_per_parent(zk, root):
    zk.create(root + "/p1")
    zk.create(root + "/p2")
    for _ in range(3):
        zk.create(root + "/p1/c", sequence=True)
    assert zk.create(root + "/p2/c", sequence=True) == root + "/p2/c0000000000"
    assert zk.create(root + "/p1/c", sequence=True) == root + "/p1/c0000000003"


def test_null_data_round_trips_as_null(zk, root):
    """A node created with a null buffer (length -1, what zkCli's `create /p`
    sends) returns null data (length -1) and dataLength 0; an empty buffer
    returns empty data."""
    p = root + "/nulldata"
    zk.create(p, None)
    data, st = zk.get(p)
    assert data is None and st.dataLength == 0
    zk.set(p, b"")
    data, st = zk.get(p)
    assert data == b"" and st.dataLength == 0
    zk.set(p, None)
    assert zk.get(p)[0] is None


def test_ensure_path(zk, root):
    p = root + "/e/n/s"
    assert zk.ensure_path(p)  # kazoo returns the path (created) or True (existed)
    assert zk.exists(p) is not None
    assert zk.ensure_path(p)  # idempotent
    assert zk.get_children(root + "/e") == ["n"]


def test_exists(zk, root):
    assert zk.exists(root + "/nope") is None
    assert zk.exists(root + "/nope/deeper") is None
    zk.create(root + "/yes", b"abc")
    st = zk.exists(root + "/yes")
    assert st is not None and st.dataLength == 3
    assert zk.exists("/") is not None


def test_get_missing(zk, root):
    with pytest.raises(NoNodeError):
        zk.get(root + "/missing")
    with pytest.raises(NoNodeError):
        zk.get_children(root + "/missing")
    with pytest.raises(NoNodeError):
        zk.get_children(root + "/missing", include_data=True)


def test_get_children(zk, root):
    par = root + "/kids"
    zk.create(par, b"parent")
    assert zk.get_children(par) == []
    names = ["a", "b", "c", "d-1", "with.dot"]
    for n in names:
        zk.create(par + "/" + n)
    assert sorted(zk.get_children(par)) == sorted(names)  # order is unspecified
    kids, st = zk.get_children(par, include_data=True)  # GetChildren2: parent's stat
    assert sorted(kids) == sorted(names)
    assert st.numChildren == len(names)
    assert st.dataLength == 6
    assert st.cversion == len(names)
    assert st == zk.exists(par)


def test_unicode_names_and_binary_data(zk, root):
    p = root + "/ünïcödé-名前"
    blob = bytes(range(256)) * 4
    zk.create(p, blob)
    assert zk.get(p)[0] == blob
    assert zk.get_children(root) == ["ünïcödé-名前"]


def test_set_and_versions(zk, root):
    p = root + "/v"
    _, st0 = zk.create(p, b"0", include_data=True)
    st1 = zk.set(p, b"one")
    assert st1.version == 1 and st1.dataLength == 3
    assert st1.czxid == st0.czxid and st1.mzxid > st0.mzxid
    assert st1.mtime >= st0.mtime and st1.ctime == st0.ctime
    st2 = zk.set(p, b"two", version=1)
    assert st2.version == 2
    with pytest.raises(BadVersionError):
        zk.set(p, b"three", version=1)
    with pytest.raises(BadVersionError):
        zk.set(p, b"three", version=99)
    assert zk.get(p)[0] == b"two"
    # same data still bumps the version
    assert zk.set(p, b"two").version == 3
    with pytest.raises(NoNodeError):
        zk.set(root + "/none", b"x")


def test_parent_stat_bookkeeping(zk, root):
    par = root + "/par"
    _, pst0 = zk.create(par, b"", include_data=True)
    _, cst = zk.create(par + "/c", b"", include_data=True)
    pst1 = zk.exists(par)
    assert pst1.pzxid == cst.czxid
    assert pst1.cversion == pst0.cversion + 1
    assert pst1.numChildren == 1
    assert pst1.mzxid == pst0.mzxid and pst1.version == 0  # data untouched
    zk.set(par + "/c", b"x")  # child data change does not touch the parent
    assert zk.exists(par) == pst1
    zk.delete(par + "/c")
    pst2 = zk.exists(par)
    assert pst2.pzxid > cst.czxid
    assert pst2.cversion == pst1.cversion + 1
    assert pst2.numChildren == 0


def test_zxid_monotonic(zk, root):
    zxids = []
    for i in range(5):
        _, st = zk.create(root + "/z%d" % i, include_data=True)
        zxids.append(st.czxid)
    assert zxids == sorted(zxids) and len(set(zxids)) == 5


def test_delete(zk, root):
    p = root + "/d"
    zk.create(p, b"x")
    zk.set(p, b"y")
    with pytest.raises(BadVersionError):
        zk.delete(p, version=0)
    zk.delete(p, version=1)
    assert zk.exists(p) is None
    with pytest.raises(NoNodeError):
        zk.delete(p)


def test_delete_not_empty_and_recursive(zk, root):
    p = root + "/tree"
    zk.create(p + "/a/b/c", makepath=True)
    zk.create(p + "/d", makepath=True)
    with pytest.raises(NotEmptyError):
        zk.delete(p)
    with pytest.raises(NotEmptyError):
        zk.delete(p + "/a")
    zk.delete(p, recursive=True)
    assert zk.exists(p) is None


def test_sync(zk, root):
    assert zk.sync(root) == root
    # Apache ZooKeeper does not check that the path exists (nor validate it).
    assert zk.sync(root + "/does-not-exist") == root + "/does-not-exist"


def raw(zk, req):
    return zkraw.call(zk, req)


@pytest.mark.parametrize(
    "suffix",
    [
        "/",  # trailing slash
        "/.",  # relative component
        "/..",
        "/a\x00b",  # NUL
        "/\x01ctl",  # control character
        "/\u007fdel",
        "/\ufffe",  # non-character (PathUtils rejects U+FFF0..U+FFFF)
    ],
)
def test_create_invalid_path_bad_arguments(zk, root, suffix):
    """kazoo does not validate paths client side; the server's PathUtils does.
    The parent must exist, otherwise the parent lookup fails first (NoNode)."""
    with pytest.raises(BadArgumentsError):
        raw(zk, Create(root + suffix, b"", OPEN_ACL_UNSAFE, 0))
    assert zk.get_children(root) == []


def test_create_invalid_path_parent_lookup_first(zk, root):
    # Apache checks that the parent exists before validating the full path:
    # "/root/missing/" has parent "/root/missing", which does not exist.
    with pytest.raises(NoNodeError):
        raw(zk, Create(root + "/missing/", b"", OPEN_ACL_UNSAFE, 0))
    with pytest.raises(NoNodeError):
        raw(zk, Create(root + "//x", b"", OPEN_ACL_UNSAFE, 0))  # parent root + "/"
    # empty component with an existing parent ("/" for "//name")
    with pytest.raises(BadArgumentsError):
        raw(zk, Create("/" + root, b"", OPEN_ACL_UNSAFE, 0))
    with pytest.raises(BadArgumentsError):
        raw(zk, Create("relative", b"", OPEN_ACL_UNSAFE, 0))
    with pytest.raises((BadArgumentsError, NoNodeError)):
        raw(zk, Create("relative/x", b"", OPEN_ACL_UNSAFE, 0))


def test_sequential_create_may_end_with_slash(zk, root):
    # The validated path is the one with the suffix appended.
    assert raw(zk, Create(root + "/", b"", OPEN_ACL_UNSAFE, 2)) == root + "/0000000000"


def test_invalid_create_flags(zk, root):
    # 5/6 (TTL modes) are only valid with the createTTL opcode; >6 is unknown.
    # With extended types disabled Apache answers Unimplemented for 5/6.
    ttl_err = BadArgumentsError if env_flag("ZK_EXTENDED_TYPES") else (BadArgumentsError, UnimplementedError)
    for flags in (5, 6, 7, 99, -1):
        with pytest.raises(ttl_err if flags in (5, 6) else BadArgumentsError):
            raw(zk, Create(root + "/f%d" % (flags & 0xFF), b"", OPEN_ACL_UNSAFE, flags))
    assert zk.get_children(root) == []


def test_null_path_marshalling_error(zk, root):
    """kazoo serialises "" as a null string (length -1).  Apache answers with
    MarshallingError (-5) and keeps the session usable."""
    with pytest.raises((MarshallingError, BadArgumentsError)):
        raw(zk, Create("", b"", OPEN_ACL_UNSAFE, 0))
    assert zk.exists(root) is not None


def test_reads_of_malformed_paths_do_not_kill_session(zk, root):
    """Apache does not validate paths of read requests at all (they are just
    not found); a server that answers BadArguments is accepted too."""
    for p in ("relative", root + "/trailing/", root + "//double"):
        try:
            assert raw(zk, Exists(p, None)) is None
        except BadArgumentsError:
            pass
        with pytest.raises((NoNodeError, BadArgumentsError)):
            raw(zk, GetData(p, None))
    assert zk.exists(root) is not None


def test_delete_root_and_system_nodes_rejected(zk):
    # DataTree refuses these with BadArguments (the root, /zookeeper, /zookeeper/quota).
    for p in ("/", "/zookeeper", "/zookeeper/quota"):
        with pytest.raises(BadArgumentsError):
            raw(zk, Delete(p, -1))
    assert zk.exists("/zookeeper") is not None


def test_raw_setdata_version_check(zk, root):
    zk.create(root + "/r", b"a")
    with pytest.raises(BadVersionError):
        raw(zk, SetData(root + "/r", b"b", 5))
    st = raw(zk, SetData(root + "/r", b"b", 0))
    assert st.version == 1
