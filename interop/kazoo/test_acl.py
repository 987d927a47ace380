"""ACLs, digest/auth schemes, per-operation permission checks, super user."""

import pytest
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    InvalidACLError,
    NoAuthError,
    NoNodeError,
)
from kazoo.protocol.serialization import Create
from kazoo.protocol.states import KazooState
from kazoo.security import (
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    Permissions,
    make_acl,
    make_digest_acl,
    make_digest_acl_credential,
)

import zkraw
from conftest import USERS, wait_until


def cred(user):
    return "%s:%s" % (user, USERS[user])


def digest_acl(user, **perms):
    return make_digest_acl(user, USERS[user], **perms)


def world(**perms):
    return make_acl("world", "anyone", **perms)


def test_digest_credential_format():
    # base64(sha1("user:password")), as DigestAuthenticationProvider.generateDigest
    assert make_digest_acl_credential("super", "test") == "super:D/InIHSb7yEEbrWz8b9l71RjZJU="


def test_get_set_acls(zk, root):
    p = root + "/acl"
    zk.create(p, b"", acl=OPEN_ACL_UNSAFE)
    acls, st = zk.get_acls(p)
    assert acls == OPEN_ACL_UNSAFE
    assert st.aversion == 0
    new = [world(read=True, write=True, create=True, delete=True, admin=True), digest_acl("alice", read=True)]
    st = zk.set_acls(p, new)
    assert st.aversion == 1
    assert st.version == 0  # data version untouched
    acls, st2 = zk.get_acls(p)
    assert acls == new  # order preserved
    assert st2.aversion == 1 and st2.mzxid == st.mzxid
    with pytest.raises(BadVersionError):
        zk.set_acls(p, OPEN_ACL_UNSAFE, version=0)
    assert zk.set_acls(p, OPEN_ACL_UNSAFE, version=1).aversion == 2
    with pytest.raises(NoNodeError):
        zk.get_acls(root + "/missing")
    with pytest.raises(NoNodeError):
        zk.set_acls(root + "/missing", OPEN_ACL_UNSAFE)


def test_duplicate_acl_entries_removed(zk, root):
    p = root + "/dup"
    zk.create(p, acl=[world(read=True), world(read=True), world(write=True)])
    assert zk.get_acls(p)[0] == [world(read=True), world(write=True)]


def test_invalid_acls(zk, root):
    cases = [
        [make_acl("digest", "no-colon-here", all=True)],
        [make_acl("nosuchscheme", "x", all=True)],
        [make_acl("world", "someone", all=True)],  # world only allows "anyone"
        [make_acl("ip", "300.1.1.1", all=True)],
        [make_acl("ip", "127.0.0.1/99", all=True)],
        [make_acl("auth", "", all=True)],  # no authenticated identity yet
    ]
    for acl in cases:
        with pytest.raises(InvalidACLError):
            zk.create(root + "/bad", acl=acl)
    # empty ACL list (kazoo would replace [] by its default, so send it raw)
    with pytest.raises(InvalidACLError):
        zkraw.call(zk, Create(root + "/bad", b"", [], 0))
    zk.create(root + "/ok")
    with pytest.raises(InvalidACLError):
        zk.set_acls(root + "/ok", [])
    with pytest.raises(InvalidACLError):
        zk.set_acls(root + "/ok", [make_acl("digest", "nocolon", all=True)])
    assert zk.get_children(root) == ["ok"]


def test_ip_acl(zk, root):
    p = root + "/ip"
    zk.create(p, b"x", acl=[make_acl("ip", "127.0.0.1", all=True)])
    assert zk.get(p)[0] == b"x"
    zk.create(root + "/ipnet", b"y", acl=[make_acl("ip", "127.0.0.0/8", read=True)])
    assert zk.get(root + "/ipnet")[0] == b"y"
    zk.create(root + "/ipother", b"z", acl=[make_acl("ip", "10.1.2.3", read=True)])
    with pytest.raises(NoAuthError):
        zk.get(root + "/ipother")


PERMS = {
    "r": dict(read=True),
    "w": dict(write=True),
    "c": dict(create=True),
    "d": dict(delete=True),
    "a": dict(admin=True),
}


@pytest.mark.parametrize("perm", ["r", "w", "c", "d", "a", "none"])
def test_permission_matrix_world(zk, make_client, root, perm):
    """Which operation needs which permission (world:anyone ACL, no auth)."""
    p = root + "/m"
    acl = [world(**PERMS[perm])] if perm != "none" else [digest_acl("alice", all=True)]
    owner = make_client()
    owner.add_auth("digest", cred("alice"))
    owner.create(p, b"data", acl=acl + [digest_acl("alice", all=True)] if perm != "none" else acl)
    owner.create(p + "/child", b"")  # owner has ALL via digest

    def can(fn):
        try:
            fn()
            return True
        except NoAuthError:
            return False

    res = {
        "get": can(lambda: zk.get(p)),
        "children": can(lambda: zk.get_children(p)),
        "children2": can(lambda: zk.get_children(p, include_data=True)),
        "set": can(lambda: zk.set(p, b"x")),
        "create": can(lambda: zk.create(p + "/new")),
        "delete_child": can(lambda: zk.delete(p + "/child")),
        "set_acls": can(lambda: zk.set_acls(p, acl + [digest_acl("alice", all=True)])),
        # getACL needs READ or ADMIN
        "get_acls": can(lambda: zk.get_acls(p)),
    }
    want = {
        "get": perm == "r",
        "children": perm == "r",
        "children2": perm == "r",
        "set": perm == "w",
        "create": perm == "c",
        "delete_child": perm == "d",
        "set_acls": perm == "a",
        "get_acls": perm in ("r", "a"),
    }
    assert res == want
    # exists(): no ACL check up to 3.8.3/3.9.1; since 3.8.4/3.9.2
    # (ZOOKEEPER-2590) it needs READ when the node exists.  Accept both.
    try:
        assert zk.exists(p) is not None
    except NoAuthError:
        assert perm != "r"
    # a missing node below a protected node is reported as missing either way
    assert zk.exists(p + "/nope") is None


def test_delete_needs_delete_on_parent_not_on_node(zk, make_client, root):
    owner = make_client()
    owner.add_auth("digest", cred("alice"))
    par = root + "/par"
    owner.create(par, acl=[world(delete=True, read=True), digest_acl("alice", all=True)])
    owner.create(par + "/locked", acl=[digest_acl("alice", all=True)])
    zk.delete(par + "/locked")  # node's own ACL is irrelevant for delete
    assert owner.exists(par + "/locked") is None


def test_digest_auth(zk, make_client, root):
    p = root + "/d"
    zk.add_auth("digest", cred("alice"))
    zk.create(p, b"secret", acl=[digest_acl("alice", all=True)])
    assert zk.get(p)[0] == b"secret"

    anon = make_client()
    for fn in (
        lambda: anon.get(p),
        lambda: anon.set(p, b"x"),
        lambda: anon.get_children(p),
        lambda: anon.create(p + "/c"),
        lambda: anon.set_acls(p, OPEN_ACL_UNSAFE),
        lambda: anon.get_acls(p),
    ):
        with pytest.raises(NoAuthError):
            fn()

    bob = make_client()
    bob.add_auth("digest", cred("bob"))
    with pytest.raises(NoAuthError):
        bob.get(p)
    wrong = make_client()
    wrong.add_auth("digest", "alice:wrong-password")  # digest auth itself never fails
    assert wrong.state == KazooState.CONNECTED
    with pytest.raises(NoAuthError):
        wrong.get(p)

    # auth at connect time (auth_data) works the same as add_auth
    al = make_client(auth_data=[("digest", cred("alice"))])
    assert al.get(p)[0] == b"secret"
    # multiple identities per session: any matching one grants access
    bob.add_auth("digest", cred("alice"))
    assert bob.get(p)[0] == b"secret"


def test_auth_scheme_acl(zk, make_client, root):
    """'auth' expands to every authenticated (non-ip) identity of the session;
    the id given with it is ignored."""
    zk.add_auth("digest", cred("bob"))
    zk.create(root + "/a1", b"x", acl=[make_acl("auth", "ignored", all=True)])
    assert zk.get_acls(root + "/a1")[0] == [digest_acl("bob", all=True)]
    zk.add_auth("digest", cred("carol"))
    zk.create(root + "/a2", b"x", acl=[make_acl("auth", "", all=True)])
    acls = zk.get_acls(root + "/a2")[0]
    assert sorted(acls, key=lambda a: a.id.id) == [digest_acl("bob", all=True), digest_acl("carol", all=True)]
    carol = make_client(auth_data=[("digest", cred("carol"))])
    assert carol.get(root + "/a2")[0] == b"x"
    with pytest.raises(NoAuthError):
        make_client().get(root + "/a2")
    # setACL with 'auth' works the same way
    zk.set_acls(root + "/a1", [make_acl("auth", "", read=True, admin=True)])
    assert sorted(a.id.id for a in zk.get_acls(root + "/a1")[0]) == sorted(
        [digest_acl("bob").id.id, digest_acl("carol").id.id]
    )


def test_get_acls_redacts_digest_without_admin(zk, make_client, root):
    """getACL by a caller that has READ but not ADMIN returns digest ids with
    the hash replaced by "x" (ZOOKEEPER-1392 / CVE-2019-0201 hardening)."""
    p = root + "/redact"
    owner = make_client(auth_data=[("digest", cred("alice"))])
    owner.create(p, b"", acl=[world(read=True), digest_acl("alice", read=True, write=True)])
    acls = zk.get_acls(p)[0]
    assert acls == [world(read=True), make_acl("digest", "alice:x", read=True, write=True)]
    # with ADMIN the real hash is shown
    q = root + "/full"
    owner.create(q, b"", acl=[world(read=True, admin=True), digest_acl("alice", all=True)])
    assert zk.get_acls(q)[0] == [world(read=True, admin=True), digest_acl("alice", all=True)]


def test_unknown_auth_scheme_fails_session(make_client):
    c = make_client()
    with pytest.raises(AuthFailedError):
        c.add_auth("nosuchscheme", "whatever")
    # the server sends an AUTH_FAILED notification and closes the connection
    wait_until(lambda: c.state == KazooState.LOST, msg="LOST after auth failure")


def test_system_nodes_acl(zk):
    acls, st = zk.get_acls("/zookeeper/config")
    assert acls == READ_ACL_UNSAFE  # world:anyone:r
    with pytest.raises(NoAuthError):
        zk.set("/zookeeper/config", b"x")
    assert zk.get_acls("/zookeeper/quota")[0] == OPEN_ACL_UNSAFE
    assert zk.get_acls("/zookeeper")[0] == OPEN_ACL_UNSAFE
    assert zk.get_acls("/")[0] == OPEN_ACL_UNSAFE


def test_super_user(super_zk, make_client, root):
    p = root + "/locked"
    alice = make_client(auth_data=[("digest", cred("alice"))])
    alice.create(p, b"mine", acl=[digest_acl("alice", read=True)])
    alice.create(root + "/noperm", b"", acl=[make_acl("digest", "nobody:x", all=True)])
    assert super_zk.get(p)[0] == b"mine"
    super_zk.set(p, b"super wrote")
    super_zk.create(p + "/child")
    super_zk.delete(p + "/child")
    assert super_zk.get_acls(p)[0] == [digest_acl("alice", read=True)]  # unredacted
    super_zk.set_acls(p, OPEN_ACL_UNSAFE)
    assert make_client().get(p)[0] == b"super wrote"
    assert super_zk.get(root + "/noperm")[0] == b""
    super_zk.set("/zookeeper/config", super_zk.get("/zookeeper/config")[0] or b"")
    who = zkraw.call(super_zk, zkraw.WhoAmI())
    assert ("digest", "super") in who


def test_super_wrong_password(make_client, root):
    from conftest import super_auth

    if not super_auth():
        pytest.skip("ZK_SUPER_DIGEST_PASSWORD not set")
    alice = make_client(auth_data=[("digest", cred("alice"))])
    alice.create(root + "/l", b"", acl=[digest_acl("alice", all=True)])
    fake = make_client(auth_data=[("digest", "super:definitely-not-the-password")])
    with pytest.raises(NoAuthError):
        fake.get(root + "/l")


def test_whoami(make_client):
    c = make_client()
    assert zkraw.call(c, zkraw.WhoAmI()) == [("ip", "127.0.0.1")]
    c.add_auth("digest", cred("alice"))
    c.add_auth("digest", cred("alice"))  # re-adding the same identity is a no-op
    # authInfo is a set on the Apache side: the order is unspecified
    assert sorted(zkraw.call(c, zkraw.WhoAmI())) == [("digest", "alice"), ("ip", "127.0.0.1")]
