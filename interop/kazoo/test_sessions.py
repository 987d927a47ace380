"""Sessions: ephemerals vs. close/expiry, resumption with client_id.

The expiry tests really wait for the server to expire a session (negotiated
timeout ~4 s), so they take several seconds each; they are marked `slow`
(deselect with -m "not slow")."""

import time

import pytest
from kazoo.protocol.states import KazooState

import zkraw
from conftest import host_port, wait_until
from tcpproxy import TcpProxy


def states_of(client):
    seen = []
    client.add_listener(lambda s: seen.append(s))
    return seen


def test_session_id_and_negotiated_timeout(make_client):
    c = make_client(timeout=10)
    sid, pw = c.client_id
    assert sid != 0
    assert isinstance(pw, bytes) and len(pw) == 16
    # Apache clamps to [minSessionTimeout, maxSessionTimeout] = [2, 20] * tickTime;
    # 10 s is inside the default range for tickTime 2000.
    assert c._session_timeout == 10000
    other = make_client()
    assert other.client_id[0] != sid


def test_ephemeral_removed_on_close(make_client, root):
    observer = make_client()
    owner = make_client()
    p = root + "/eph"
    owner.create(p, b"", ephemeral=True)
    owner.create(root + "/eph-seq-", b"", ephemeral=True, sequence=True)
    assert observer.exists(p).ephemeralOwner == owner.client_id[0]
    e = zkraw.call(observer, zkraw.GetEphemerals(root))
    assert e == []  # getEphemerals lists only the caller's own ephemerals
    owner.stop()  # sends closeSession
    # removal is part of the closeSession transaction: visible immediately
    assert observer.exists(p) is None
    assert observer.get_children(root) == []


def test_ephemeral_watch_fires_on_close(make_client, root):
    observer = make_client()
    owner = make_client()
    p = root + "/eph"
    owner.create(p, b"", ephemeral=True)
    got = []
    observer.exists(p, watch=lambda e: got.append((e.type, e.path)))
    children = []
    observer.get_children(root, watch=lambda e: children.append((e.type, e.path)))
    owner.stop()
    wait_until(lambda: got and children, msg="DELETED + CHILD events")
    assert got == [("DELETED", p)]
    assert children == [("CHILD", root)]


def test_close_session_from_second_client(make_client, root):
    """A second client attaching with (session_id, password) takes the session
    over (the server drops the first connection); closing it ends the session."""
    observer = make_client()
    a = make_client(timeout=10)
    a_states = states_of(a)
    p = root + "/eph"
    a.create(p, b"", ephemeral=True)
    sid, pw = a.client_id
    b = make_client(client_id=(sid, pw))
    assert b.client_id[0] == sid
    assert b.exists(p).ephemeralOwner == sid
    b.stop()
    assert observer.exists(p) is None
    # a reconnects, learns its session expired (LOST) and kazoo starts a new one
    wait_until(lambda: KazooState.LOST in a_states, timeout=15, msg="LOST on first client")
    wait_until(lambda: a.connected and a.client_id[0] != sid, timeout=15, msg="new session")


def test_resume_session_keeps_ephemerals(make_client, root):
    """Cut the connection (no closeSession), reattach with client_id before the
    session times out: the ephemeral survives and still belongs to the session."""
    h, port = host_port()
    proxy = TcpProxy(h, port)
    observer = make_client()
    try:
        a = make_client(proxy.address, timeout=10)
        p = root + "/eph"
        a.create(p, b"", ephemeral=True)
        sid, pw = a.client_id
        proxy.cut()
        wait_until(lambda: not a.connected, msg="first client disconnected")
        b = make_client(client_id=(sid, pw), timeout=10)
        assert b.client_id[0] == sid
        time.sleep(0.5)
        st = observer.exists(p)
        assert st is not None and st.ephemeralOwner == sid
        b.create(root + "/eph2", b"", ephemeral=True)  # the resumed session works
        b.stop()
        assert observer.exists(p) is None and observer.exists(root + "/eph2") is None
    finally:
        proxy.close()


def test_resume_with_wrong_password_is_expired(make_client):
    """Apache answers a ConnectRequest for a known session with a wrong password
    exactly like an expired one: timeOut=0, sessionId=0, 16 zero bytes of
    password, then it closes the socket.  The real session is unaffected."""
    a = make_client(timeout=10)
    sid, pw = a.client_id
    bad = bytes((x ^ 0xFF) for x in pw)
    h, port = host_port()
    s, r = zkraw.raw_connect(h, port, session_id=sid, passwd=bad)
    try:
        assert r["timeOut"] == 0
        assert r["sessionId"] == 0
        assert r["passwd"] == b"\0" * 16
        assert zkraw.socket_closed_by_peer(s)
    finally:
        s.close()
    # Apache drops the legitimate connection of that session *before* checking
    # the password (the client simply reconnects); not required, tolerated.
    # The session itself must survive.
    wait_until(lambda: a.connected, timeout=15, msg="first client still/again connected")
    assert a.client_id[0] == sid and a.exists("/") is not None
    # kazoo with the wrong password ends up with a fresh session
    b = make_client(client_id=(sid, bad), timeout=10)
    wait_until(lambda: b.connected and b.client_id[0] != sid, timeout=15, msg="fresh session")


def test_resume_unknown_session_is_expired(make_client):
    h, port = host_port()
    s, r = zkraw.raw_connect(h, port, session_id=0x7FFF_FFFF_0000_1234, passwd=b"\1" * 16)
    try:
        assert (r["timeOut"], r["sessionId"], r["passwd"]) == (0, 0, b"\0" * 16)
        assert zkraw.socket_closed_by_peer(s)
    finally:
        s.close()
    b = make_client(client_id=(0x7FFF_FFFF_0000_1234, b"\0" * 16), timeout=10)
    wait_until(
        lambda: b.connected and b.client_id[0] != 0x7FFF_FFFF_0000_1234, timeout=15, msg="fresh session"
    )


def test_raw_handshake(make_client):
    """ConnectResponse layout: protocolVersion(int)=0, timeOut(int),
    sessionId(long), passwd(buffer, 16 bytes), readOnly(bool) = 37 bytes."""
    h, port = host_port()
    s, r = zkraw.raw_connect(h, port, timeout_ms=10000)
    try:
        assert r["protocolVersion"] == 0
        assert r["timeOut"] == 10000
        assert r["sessionId"] != 0
        assert len(r["passwd"]) == 16
        assert r["readOnly"] is False
        assert r["length"] == 37
        # reattaching the session from a second socket: same id/password back,
        # and the server drops the first socket
        s2, r2 = zkraw.raw_connect(h, port, session_id=r["sessionId"], passwd=r["passwd"])
        try:
            assert (r2["sessionId"], r2["passwd"], r2["timeOut"]) == (r["sessionId"], r["passwd"], 10000)
            assert zkraw.socket_closed_by_peer(s)
        finally:
            s2.close()
    finally:
        s.close()


def test_session_timeout_is_clamped():
    """Apache clamps the requested timeout to [minSessionTimeout,
    maxSessionTimeout] (default 2*tickTime .. 20*tickTime = 4000..40000 ms
    with tickTime=2000)."""
    h, port = host_port()
    s1, lo = zkraw.raw_connect(h, port, timeout_ms=1)
    s2, hi = zkraw.raw_connect(h, port, timeout_ms=10**9)
    s1.close()
    s2.close()
    assert 1 < lo["timeOut"] <= 10000
    assert 10000 <= hi["timeOut"] < 10**9


def test_client_ahead_of_server_is_refused():
    """A client that has seen a zxid newer than the server's last zxid is
    refused: Apache closes the socket without a ConnectResponse."""
    h, port = host_port()
    with pytest.raises((ConnectionError, OSError)):
        s, r = zkraw.raw_connect(h, port, last_zxid=1 << 62)
        # a server that answers must at least not hand out a session
        s.close()
        assert r["timeOut"] == 0


@pytest.mark.slow
def test_session_expiry_removes_ephemerals(make_client, root):
    """Real expiry: a client behind a proxy with a 4 s session; the proxy is cut
    so no pings arrive; the server must expire the session, delete its
    ephemerals and notify watchers; when the client comes back it is told its
    session expired (kazoo: LOST) and gets a new one."""
    h, port = host_port()
    proxy = TcpProxy(h, port)
    observer = make_client()
    try:
        c = make_client(proxy.address, timeout=4)
        negotiated = c._session_timeout
        c_states = states_of(c)
        p = root + "/eph"
        c.create(p, b"", ephemeral=True)
        c.create(root + "/eph-seq-", b"", ephemeral=True, sequence=True)
        sid = c.client_id[0]
        got = []
        observer.exists(p, watch=lambda e: got.append(e.type))

        t0 = time.time()
        proxy.cut()
        wait_until(
            lambda: observer.exists(p) is None,
            timeout=negotiated / 1000.0 * 2 + 10,
            interval=0.1,
            msg="ephemeral removed by session expiry",
        )
        elapsed = time.time() - t0
        # not before the session timeout (minus a tick of slack for bucketing)
        assert elapsed >= negotiated / 1000.0 * 0.5, elapsed
        assert observer.get_children(root) == []
        wait_until(lambda: got == ["DELETED"], msg="watch event for expired ephemeral")
        # the expired session is really gone: resuming it fails
        assert KazooState.LOST not in c_states

        proxy.resume()
        wait_until(lambda: KazooState.LOST in c_states, timeout=15, msg="LOST after reconnect")
        wait_until(lambda: c.connected, timeout=15, msg="reconnect with a new session")
        assert c.client_id[0] != sid
        assert c.exists(p) is None
    finally:
        proxy.close()


@pytest.mark.slow
def test_expired_session_cannot_be_resumed(make_client, root):
    """After expiry, a ConnectRequest for the dead session gets timeOut=0."""
    h, port = host_port()
    proxy = TcpProxy(h, port)
    try:
        c = make_client(proxy.address, timeout=4)
        sid, pw = c.client_id
        c.create(root + "/e", b"", ephemeral=True)
        proxy.cut()
        observer = make_client()
        wait_until(lambda: observer.exists(root + "/e") is None, timeout=20, interval=0.1, msg="expiry")
        s, r = zkraw.raw_connect(h, port, session_id=sid, passwd=pw)
        try:
            assert (r["timeOut"], r["sessionId"]) == (0, 0)
            assert zkraw.socket_closed_by_peer(s)
        finally:
            s.close()
    finally:
        proxy.close()


@pytest.mark.slow
def test_pings_keep_idle_session_alive(make_client, root):
    """An idle but connected client must not be expired."""
    c = make_client(timeout=4)
    c.create(root + "/idle", b"", ephemeral=True)
    time.sleep(c._session_timeout / 1000.0 * 2)
    observer = make_client()
    assert observer.exists(root + "/idle") is not None
    assert c.connected
