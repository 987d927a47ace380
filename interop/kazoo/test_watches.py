"""One-shot watches, kazoo's DataWatch/ChildrenWatch helpers, and persistent
watches (addWatch, opcode 106) through the raw helpers."""

import threading
import time

import pytest
from kazoo.exceptions import NoNodeError, NoWatcherError
from kazoo.protocol.states import EventType, KazooState

import zkraw
from conftest import wait_until


class Recorder:
    def __init__(self):
        self.events = []
        self.cv = threading.Condition()

    def __call__(self, ev):
        with self.cv:
            self.events.append(ev)
            self.cv.notify_all()

    def wait(self, n=1, timeout=5):
        with self.cv:
            ok = self.cv.wait_for(lambda: len(self.events) >= n, timeout)
        assert ok, "expected %d event(s), got %r" % (n, self.events)
        return self.events


def settle():
    """Give the server a moment to deliver any (unexpected) extra event."""
    time.sleep(0.3)


def test_exists_watch_fires_created(zk, root):
    r = Recorder()
    p = root + "/w"
    assert zk.exists(p, watch=r) is None  # watch set on a missing node
    zk.create(p, b"")
    ev = r.wait()[0]
    assert ev.type == EventType.CREATED and ev.path == p
    assert ev.state == KazooState.CONNECTED
    zk.set(p, b"x")
    zk.delete(p)
    settle()
    assert len(r.events) == 1  # one-shot


def test_data_watch_fires_changed_once(zk, root):
    p = root + "/w"
    zk.create(p, b"0")
    r = Recorder()
    zk.get(p, watch=r)
    zk.set(p, b"1")
    ev = r.wait()[0]
    assert (ev.type, ev.path) == (EventType.CHANGED, p)
    zk.set(p, b"2")
    settle()
    assert len(r.events) == 1


def test_data_watch_fires_deleted(zk, root):
    p = root + "/w"
    zk.create(p, b"0")
    r1, r2 = Recorder(), Recorder()
    zk.get(p, watch=r1)
    zk.exists(p, watch=r2)
    zk.delete(p)
    assert [(e.type, e.path) for e in r1.wait()] == [(EventType.DELETED, p)]
    assert [(e.type, e.path) for e in r2.wait()] == [(EventType.DELETED, p)]


def test_get_on_missing_node_sets_no_watch(zk, root):
    p = root + "/w"
    r = Recorder()
    with pytest.raises(NoNodeError):
        zk.get(p, watch=r)
    zk.create(p)
    settle()
    assert r.events == []


def test_child_watch(zk, root):
    r = Recorder()
    assert zk.get_children(root, watch=r) == []
    zk.create(root + "/c1")
    ev = r.wait()[0]
    assert (ev.type, ev.path) == (EventType.CHILD, root)
    zk.create(root + "/c2")
    settle()
    assert len(r.events) == 1  # one-shot
    zk.get_children(root, watch=r)
    zk.delete(root + "/c1")
    evs = r.wait(2)
    assert (evs[1].type, evs[1].path) == (EventType.CHILD, root)


def test_child_watch_not_fired_by_data_change(zk, root):
    p = root + "/p"
    zk.create(p)
    zk.create(p + "/c")
    r = Recorder()
    zk.get_children(p, watch=r)
    zk.set(p, b"data")
    zk.set(p + "/c", b"data")
    zk.create(p + "/c/grandchild")
    settle()
    assert r.events == []


def test_child_watch_fires_deleted_when_node_goes(zk, root):
    p = root + "/p"
    zk.create(p)
    r = Recorder()
    zk.get_children(p, watch=r)
    zk.delete(p)
    ev = r.wait()[0]
    assert (ev.type, ev.path) == (EventType.DELETED, p)


def test_get_children_include_data_watch(zk, root):
    r = Recorder()
    zk.get_children(root, watch=r, include_data=True)
    zk.create(root + "/x")
    assert r.wait()[0].type == EventType.CHILD


def test_watch_from_other_session_change(zk, make_client, root):
    other = make_client()
    p = root + "/w"
    zk.create(p, b"")
    r = Recorder()
    zk.get(p, watch=r)
    other.set(p, b"changed by other")
    assert r.wait()[0].type == EventType.CHANGED
    assert zk.get(p)[0] == b"changed by other"


def test_server_sends_one_notification_per_event(zk, root):
    """Apache keeps one watch per (path, connection) per watch kind and, on
    delete, suppresses the child-watch event for connections already notified
    through their data watch: exactly one NodeDeleted reaches the client."""
    seen = zkraw.spy_events(zk)
    p = root + "/dedupe"
    zk.create(p)
    zk.get(p, watch=lambda e: None)
    zk.exists(p, watch=lambda e: None)
    zk.get_children(p, watch=lambda e: None)
    zk.set(p, b"1")
    wait_until(lambda: seen, msg="NodeDataChanged")
    settle()
    assert seen == [(zkraw.EV_CHANGED, 3, p)]  # state 3 = SyncConnected
    del seen[:]
    zk.get(p, watch=lambda e: None)
    zk.delete(p)  # data watch + the still-armed child watch
    wait_until(lambda: seen, msg="NodeDeleted")
    settle()
    assert seen == [(zkraw.EV_DELETED, 3, p)]


def test_notification_arrives_before_response_of_later_read(zk, make_client, root):
    """ZooKeeper guarantees a client sees a watch event before it sees the new
    data that triggered it."""
    other = make_client()
    p = root + "/order"
    zk.create(p, b"0")
    got = []
    zk.get(p, watch=lambda e: got.append(("event", e.type)))
    other.set(p, b"1")
    data, _ = zk.get(p)
    if data == b"1":
        assert got == [("event", EventType.CHANGED)]


def test_data_watch_recipe(zk, root):
    p = root + "/dw"
    calls = []
    cv = threading.Condition()

    @zk.DataWatch(p)
    def watcher(data, stat, event=None):
        with cv:
            calls.append((data, stat.version if stat else None, event.type if event else None))
            cv.notify_all()

    def wait(n):
        with cv:
            assert cv.wait_for(lambda: len(calls) >= n, 5), calls

    wait(1)
    assert calls[0] == (None, None, None)  # node does not exist yet
    zk.create(p, b"v0")
    wait(2)
    assert calls[1] == (b"v0", 0, EventType.CREATED)
    zk.set(p, b"v1")
    wait(3)
    assert calls[2] == (b"v1", 1, EventType.CHANGED)
    zk.delete(p)
    wait(4)
    assert calls[3] == (None, None, EventType.DELETED)


def test_children_watch_recipe(zk, root):
    p = root + "/cw"
    zk.create(p)
    seen = []
    cv = threading.Condition()

    @zk.ChildrenWatch(p)
    def watcher(children):
        with cv:
            seen.append(sorted(children))
            cv.notify_all()

    def wait_for(v):
        with cv:
            assert cv.wait_for(lambda: seen and seen[-1] == v, 5), seen

    wait_for([])
    zk.create(p + "/a")
    wait_for(["a"])
    zk.create(p + "/b")
    wait_for(["a", "b"])
    zk.delete(p + "/a")
    wait_for(["b"])


# ---- persistent watches (ZooKeeper 3.6+, opcode 106) -------------------------


def test_persistent_recursive_watch(zk, root):
    seen = zkraw.spy_events(zk)
    p = root + "/pr"
    zkraw.call(zk, zkraw.AddWatch(p, zkraw.PERSISTENT_RECURSIVE_WATCH))
    zk.create(p)
    zk.create(p + "/a")
    zk.set(p + "/a", b"1")
    zk.create(p + "/a/b")
    zk.delete(p + "/a/b")
    zk.set(p + "/a", b"2")
    want = [
        (zkraw.EV_CREATED, 3, p),
        (zkraw.EV_CREATED, 3, p + "/a"),
        (zkraw.EV_CHANGED, 3, p + "/a"),
        (zkraw.EV_CREATED, 3, p + "/a/b"),
        (zkraw.EV_DELETED, 3, p + "/a/b"),
        (zkraw.EV_CHANGED, 3, p + "/a"),
    ]
    wait_until(lambda: len(seen) >= len(want), msg="recursive events")
    settle()
    # recursive watches never deliver NodeChildrenChanged
    assert seen == want
    zkraw.call(zk, zkraw.CheckWatches(p, zkraw.WATCHER_ANY))
    zkraw.call(zk, zkraw.RemoveWatches(p, zkraw.WATCHER_ANY))
    # removal is not announced by the server (the Java client synthesises
    # PersistentWatchRemoved locally)
    settle()
    assert len(seen) == len(want)
    zk.set(p + "/a", b"3")
    settle()
    assert len(seen) == len(want)
    with pytest.raises(NoWatcherError):
        zkraw.call(zk, zkraw.RemoveWatches(p, zkraw.WATCHER_ANY))


def test_persistent_watch(zk, root):
    seen = zkraw.spy_events(zk)
    p = root + "/pw"
    zk.create(p)
    zk.create(p + "/a")
    zkraw.call(zk, zkraw.AddWatch(p, zkraw.PERSISTENT_WATCH))
    zk.create(p + "/c")
    zk.set(p, b"1")
    zk.set(p + "/a", b"x")  # not watched: not a direct event on p
    zk.set(p, b"2")
    want = [(zkraw.EV_CHILD, 3, p), (zkraw.EV_CHANGED, 3, p), (zkraw.EV_CHANGED, 3, p)]
    wait_until(lambda: len(seen) >= 3, msg="persistent events")
    settle()
    assert seen == want


def test_remove_watches(zk, root):
    seen = zkraw.spy_events(zk)
    p = root + "/rw"
    zk.create(p)
    with pytest.raises(NoWatcherError):
        zkraw.call(zk, zkraw.RemoveWatches(p, zkraw.WATCHER_ANY))
    zk.get(p, watch=lambda e: None)
    with pytest.raises(NoWatcherError):
        zkraw.call(zk, zkraw.CheckWatches(p, zkraw.WATCHER_CHILDREN))
    zkraw.call(zk, zkraw.CheckWatches(p, zkraw.WATCHER_DATA))
    zkraw.call(zk, zkraw.RemoveWatches(p, zkraw.WATCHER_DATA))
    zk.set(p, b"x")
    settle()
    assert seen == []
    with pytest.raises(NoWatcherError):
        zkraw.call(zk, zkraw.RemoveWatches(root + "/nonexistent", zkraw.WATCHER_ANY))
