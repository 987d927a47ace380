"""A few kazoo recipes: they combine sequential ephemerals, child watches,
versioned sets and multi the way real applications do."""

import threading

from kazoo.recipe.cache import TreeCache, TreeEvent

from conftest import wait_until


def test_lock_mutual_exclusion(make_client, root):
    a, b = make_client(), make_client()
    la, lb = a.Lock(root + "/lock", "a"), b.Lock(root + "/lock", "b")
    assert la.acquire(timeout=5)
    assert not lb.acquire(blocking=False)
    got = threading.Event()

    def waiter():
        if lb.acquire(timeout=10):
            got.set()

    t = threading.Thread(target=waiter)
    t.start()
    wait_until(lambda: sorted(la.contenders()) == ["a", "b"], msg="two contenders")
    assert not got.wait(0.3)
    la.release()
    assert got.wait(5)
    t.join(5)
    lb.release()
    assert a.get_children(root + "/lock") == []


def test_lock_released_when_holder_session_closes(make_client, root):
    a, b = make_client(), make_client()
    la = a.Lock(root + "/lock")
    assert la.acquire(timeout=5)
    lb = b.Lock(root + "/lock")
    got = threading.Event()
    t = threading.Thread(target=lambda: lb.acquire(timeout=10) and got.set())
    t.start()
    a.stop()  # ephemeral lock node disappears with the session
    assert got.wait(5)
    t.join(5)
    lb.release()


def test_counter(make_client, root):
    a, b = make_client(), make_client()
    ca, cb = a.Counter(root + "/counter"), b.Counter(root + "/counter")
    errors = []

    def bump(c):
        try:
            for _ in range(20):
                c += 1
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=bump, args=(c,)) for c in (ca, cb)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors
    assert a.Counter(root + "/counter").value == 40


def test_election(make_client, root):
    a, b = make_client(), make_client()
    ea, eb = a.Election(root + "/elect", "A"), b.Election(root + "/elect", "B")
    won = []
    done = {n: threading.Event() for n in "AB"}
    leading = threading.Condition()

    def lead(name):
        with leading:
            won.append(name)
            leading.notify_all()
        done[name].wait(10)

    ta = threading.Thread(target=ea.run, args=(lead, "A"))
    ta.start()
    with leading:
        assert leading.wait_for(lambda: won == ["A"], 5)
    tb = threading.Thread(target=eb.run, args=(lead, "B"))
    tb.start()
    wait_until(lambda: eb.contenders() == ["A", "B"], msg="contenders in order")
    assert won == ["A"]
    done["A"].set()  # A gives up leadership -> B takes over
    with leading:
        assert leading.wait_for(lambda: won == ["A", "B"], 5)
    done["B"].set()
    ta.join(5)
    tb.join(5)


def test_tree_cache(zk, make_client, root):
    other = make_client()
    events = []
    cache = TreeCache(zk, root)
    cache.listen(lambda ev: events.append((ev.event_type, ev.event_data.path if ev.event_data else None)))
    cache.start()
    try:
        wait_until(lambda: any(e[0] == TreeEvent.INITIALIZED for e in events), msg="cache init")
        other.create(root + "/a/b", b"v", makepath=True)
        wait_until(lambda: cache.get_data(root + "/a/b") is not None, msg="node in cache")
        assert cache.get_data(root + "/a/b").data == b"v"
        other.set(root + "/a/b", b"w")
        wait_until(lambda: cache.get_data(root + "/a/b").data == b"w", msg="update in cache")
        other.delete(root + "/a", recursive=True)
        wait_until(lambda: cache.get_data(root + "/a") is None, msg="removal in cache")
    finally:
        cache.close()
