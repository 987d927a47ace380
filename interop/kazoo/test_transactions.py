"""multi (OpCode.multi = 14) through kazoo's transaction API.

Result shapes as kazoo decodes Apache ZooKeeper's MultiResponse:
  success: create -> path (str), setData -> ZnodeStat, check -> True, delete -> True
  failure: one entry per op; ops *before* the failing one -> RolledBackError
           (an ErrorResult with err 0), the failing op -> its own error, ops
           *after* it -> RuntimeInconsistency (err -2).  Nothing is applied.
"""

from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import ZnodeStat


def test_commit_success_results(zk, root):
    zk.create(root + "/old", b"o")
    t = zk.transaction()
    t.create(root + "/a", b"1")
    t.create(root + "/s-", b"", sequence=True)
    t.set_data(root + "/a", b"2")
    t.check(root + "/a", 1)
    t.delete(root + "/old")
    t.create(root + "/e", b"", ephemeral=True)
    res = t.commit()
    assert len(res) == 6
    assert res[0] == root + "/a"
    # /old and /a (earlier op of the same multi) were created before it
    assert res[1] == root + "/s-0000000002"
    assert isinstance(res[2], ZnodeStat) and res[2].version == 1 and res[2].dataLength == 1
    assert res[3] is True
    assert res[4] is True
    assert res[5] == root + "/e"
    assert zk.get(root + "/a")[0] == b"2"
    assert zk.exists(root + "/old") is None
    assert zk.exists(root + "/e").ephemeralOwner == zk.client_id[0]


def test_all_ops_share_one_zxid(zk, root):
    t = zk.transaction()
    t.create(root + "/m1")
    t.create(root + "/m2")
    t.set_data(root + "/m1", b"x")
    res = t.commit()
    s1, s2 = zk.exists(root + "/m1"), zk.exists(root + "/m2")
    # one multi = one transaction = one zxid for every sub-op
    assert s1.czxid == s2.czxid == s1.mzxid == res[2].mzxid
    assert zk.exists(root).pzxid == s1.czxid


def test_context_manager_commit(zk, root):
    with zk.transaction() as t:
        t.create(root + "/cm", b"v")
    assert zk.get(root + "/cm")[0] == b"v"


def test_empty_transaction(zk, root):
    assert zk.transaction().commit() == []


def test_failure_is_all_or_nothing(zk, root):
    zk.create(root + "/keep", b"orig")
    before = zk.exists(root)
    t = zk.transaction()
    t.create(root + "/b", b"1")
    t.set_data(root + "/keep", b"changed")
    t.delete(root + "/nonexistent")  # fails: NoNode
    t.create(root + "/d")
    t.set_data(root + "/keep", b"again")
    res = t.commit()
    assert [type(r) for r in res] == [
        RolledBackError,
        RolledBackError,
        NoNodeError,
        RuntimeInconsistency,
        RuntimeInconsistency,
    ]
    assert zk.exists(root + "/b") is None
    assert zk.exists(root + "/d") is None
    data, st = zk.get(root + "/keep")
    assert data == b"orig" and st.version == 0
    after = zk.exists(root)
    assert after.cversion == before.cversion and after.numChildren == before.numChildren


def test_failure_check_version(zk, root):
    zk.create(root + "/v", b"")
    t = zk.transaction()
    t.create(root + "/new")
    t.check(root + "/v", 5)
    t.create(root + "/new2")
    res = t.commit()
    assert [type(r) for r in res] == [RolledBackError, BadVersionError, RuntimeInconsistency]
    assert zk.get_children(root) == ["v"]


def test_failure_later_op_depends_on_earlier(zk, root):
    # the second create collides with the first one of the same multi
    t = zk.transaction()
    t.create(root + "/dup")
    t.create(root + "/dup")
    res = t.commit()
    assert [type(r) for r in res] == [RolledBackError, NodeExistsError]
    assert zk.exists(root + "/dup") is None


def test_failure_delete_not_empty(zk, root):
    zk.create(root + "/p/c", makepath=True)
    t = zk.transaction()
    t.delete(root + "/p")
    res = t.commit()
    assert [type(r) for r in res] == [NotEmptyError]


def test_ops_see_earlier_ops(zk, root):
    t = zk.transaction()
    t.create(root + "/p")
    t.create(root + "/p/c")
    t.set_data(root + "/p/c", b"x")
    t.check(root + "/p/c", 1)
    t.delete(root + "/p/c")
    t.delete(root + "/p")
    res = t.commit()
    assert res == [root + "/p", root + "/p/c", res[2], True, True, True]
    assert zk.get_children(root) == []


def test_sequence_numbers_in_multi(zk, root):
    t = zk.transaction()
    for _ in range(3):
        t.create(root + "/q-", sequence=True)
    res = t.commit()
    assert res == [root + "/q-%010d" % i for i in range(3)]


def test_failed_multi_does_not_consume_sequence(zk, root):
    t = zk.transaction()
    t.create(root + "/q-", sequence=True)
    t.check(root + "/missing", 0)
    res = t.commit()
    assert [type(r) for r in res] == [RolledBackError, NoNodeError]
    assert zk.create(root + "/q-", sequence=True) == root + "/q-0000000000"
