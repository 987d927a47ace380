"""Raw protocol helpers for things kazoo has no API for.

kazoo's ``KazooClient._call(request, async_result)`` sends any object that has
``type`` (the opcode), ``serialize()`` and a ``deserialize(buf, offset)``
classmethod, so the extra ZooKeeper 3.5+/3.6+ opcodes are easy to add here.
"""

import socket
import struct
from collections import namedtuple

from kazoo.protocol.serialization import (
    Watch,
    int_struct,
    long_struct,
    read_string,
    stat_struct,
    write_buffer,
    write_string,
)
from kazoo.protocol.states import ZnodeStat

# CreateMode flags (org.apache.zookeeper.CreateMode)
PERSISTENT = 0
EPHEMERAL = 1
PERSISTENT_SEQUENTIAL = 2
EPHEMERAL_SEQUENTIAL = 3
CONTAINER = 4
PERSISTENT_WITH_TTL = 5
PERSISTENT_SEQUENTIAL_WITH_TTL = 6

# AddWatchMode
PERSISTENT_WATCH = 0
PERSISTENT_RECURSIVE_WATCH = 1

# WatcherType for checkWatches / removeWatches
WATCHER_CHILDREN = 1
WATCHER_DATA = 2
WATCHER_ANY = 3

# Watch event types as sent on the wire (Watcher.Event.EventType)
EV_CREATED = 1
EV_DELETED = 2
EV_CHANGED = 3
EV_CHILD = 4


def _acl_bytes(acl):
    b = bytearray(int_struct.pack(len(acl)))
    for a in acl:
        b.extend(int_struct.pack(a.perms) + write_string(a.id.scheme) + write_string(a.id.id))
    return b


def _read_create2_response(buf, offset):
    path, offset = read_string(buf, offset)
    return path, ZnodeStat._make(stat_struct.unpack_from(buf, offset))


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    """OpCode.createContainer (19); body = CreateRequest, reply = Create2Response."""

    type = 19

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(write_buffer(self.data))
        b.extend(_acl_bytes(self.acl))
        b.extend(int_struct.pack(self.flags))
        return b

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2_response(buf, offset)


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """OpCode.createTTL (21); body = CreateTTLRequest, reply = Create2Response."""

    type = 21

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(write_buffer(self.data))
        b.extend(_acl_bytes(self.acl))
        b.extend(int_struct.pack(self.flags))
        b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2_response(buf, offset)


class Create2Flags(namedtuple("Create2Flags", "path data acl flags")):
    """OpCode.create2 (15) with arbitrary flags (kazoo only sends 0..3)."""

    type = 15

    serialize = CreateContainer.serialize

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2_response(buf, offset)


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    """OpCode.getEphemerals (103); reply = vector<ustring>."""

    type = 103

    def serialize(self):
        return write_string(self.prefix)

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(max(n, 0)):
            s, offset = read_string(buf, offset)
            out.append(s)
        return out


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    """OpCode.getAllChildrenNumber (104); reply = int."""

    type = 104

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, buf, offset):
        return int_struct.unpack_from(buf, offset)[0]


class WhoAmI:
    """OpCode.whoAmI (107); no body; reply = vector<ClientInfo{authScheme, user}>.
    (Not an empty namedtuple: kazoo tests requests for truthiness.)"""

    type = 107

    def serialize(self):
        return b""

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(max(n, 0)):
            scheme, offset = read_string(buf, offset)
            user, offset = read_string(buf, offset)
            out.append((scheme, user))
        return out


class AddWatch(namedtuple("AddWatch", "path mode")):
    """OpCode.addWatch (106); reply has no body."""

    type = 106

    def serialize(self):
        return write_string(self.path) + int_struct.pack(self.mode)

    @classmethod
    def deserialize(cls, buf, offset):
        return True


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    """OpCode.removeWatches (18); reply has no body."""

    type = 18

    def serialize(self):
        return write_string(self.path) + int_struct.pack(self.watcher_type)

    @classmethod
    def deserialize(cls, buf, offset):
        return True


class CheckWatches(RemoveWatches):
    """OpCode.checkWatches (17); same body as removeWatches."""

    type = 17


def call(client, request, timeout=10):
    """Send a raw request through a started KazooClient and wait for the reply
    (raises the kazoo exception matching the server's error code)."""
    r = client.handler.async_result()
    client._call(request, r)
    return r.get(timeout=timeout)


def spy_events(client):
    """Record every watch notification the server sends to ``client`` as
    (type, state, path) wire values, before kazoo dispatches it.  Returns the
    list that gets appended to."""
    events = []
    conn = client._connection
    orig = conn._read_watch_event

    def spy(buffer, offset):
        w, _ = Watch.deserialize(buffer, offset)
        events.append((w.type, w.state, w.path))
        return orig(buffer, offset)

    conn._read_watch_event = spy
    return events


def four_letter(host, port, cmd, timeout=10):
    """Send a four-letter-word command and read the reply until the server
    closes the connection (kazoo's client.command() does a single recv(8192),
    which truncates long replies such as mntr)."""
    if isinstance(cmd, str):
        cmd = cmd.encode()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd)
        chunks = []
        while True:
            d = s.recv(65536)
            if not d:
                break
            chunks.append(d)
    return b"".join(chunks).decode("utf-8", "replace")


def raw_connect(host, port, session_id=0, passwd=b"\0" * 16, timeout_ms=10000,
                last_zxid=0, read_only=False, sock_timeout=10):
    """Perform a bare ConnectRequest handshake on a new socket.

    Returns (sock, response) where response is a dict with protocolVersion,
    timeOut, sessionId, passwd, readOnly (None if the server sent the old
    3.4-style response without the flag).  The caller closes the socket."""
    body = struct.pack("!iqiq", 0, last_zxid, timeout_ms, session_id)
    body += struct.pack("!i", len(passwd)) + passwd
    body += struct.pack("B", 1 if read_only else 0)
    s = socket.create_connection((host, port), timeout=sock_timeout)
    s.sendall(struct.pack("!i", len(body)) + body)
    n = struct.unpack("!i", _recv_exact(s, 4))[0]
    data = _recv_exact(s, n)
    proto, to, sid = struct.unpack_from("!iiq", data, 0)
    plen = struct.unpack_from("!i", data, 16)[0]
    pw = data[20:20 + max(plen, 0)]
    rest = data[20 + max(plen, 0):]
    ro = bool(rest[0]) if rest else None
    return s, dict(protocolVersion=proto, timeOut=to, sessionId=sid, passwd=pw,
                   readOnly=ro, length=n)


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def socket_closed_by_peer(s, timeout=5):
    """True if the peer closes the connection (EOF/reset) within timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
