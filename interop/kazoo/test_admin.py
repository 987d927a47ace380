"""Four-letter-word commands (on the client port) and server_version()."""

import re

import pytest

import zkraw
from conftest import host_port


def flw(cmd):
    h, p = host_port()
    return zkraw.four_letter(h, p, cmd)


def test_ruok(zk):
    assert zk.command(b"ruok") == "imok"  # no trailing newline


def test_srvr(zk):
    out = zk.command(b"srvr")
    lines = out.split("\n")
    assert re.match(r"^Zookeeper version: \d+\.\d+\.\d+", lines[0]), out
    assert re.search(r"^Latency min/avg/max: \d+/[\d.]+/\d+$", out, re.M), out
    assert re.search(r"^Received: \d+$", out, re.M), out
    assert re.search(r"^Sent: \d+$", out, re.M), out
    assert re.search(r"^Connections: \d+$", out, re.M), out
    assert re.search(r"^Outstanding: \d+$", out, re.M), out
    assert re.search(r"^Zxid: 0x[0-9a-f]+$", out, re.M), out
    assert re.search(r"^Mode: standalone$", out, re.M), out
    assert re.search(r"^Node count: \d+$", out, re.M), out
    assert out.endswith("\n")
    # Connections counts this client
    assert int(re.search(r"^Connections: (\d+)$", out, re.M).group(1)) >= 1


def test_srvr_zxid_and_node_count_track_writes(zk, root):
    def parse():
        out = flw("srvr")
        return (
            int(re.search(r"^Zxid: 0x([0-9a-f]+)$", out, re.M).group(1), 16),
            int(re.search(r"^Node count: (\d+)$", out, re.M).group(1)),
        )

    z0, n0 = parse()
    _, st = zk.create(root + "/n", include_data=True)
    z1, n1 = parse()
    assert z1 >= st.czxid > z0 - 1
    assert n1 >= 1  # other tests may run concurrently on a shared server


def test_stat(zk):
    out = flw("stat")
    assert re.match(r"^Zookeeper version: ", out), out
    assert "Clients:\n" in out
    assert re.search(r"^Mode: standalone$", out, re.M), out
    assert re.search(r"^Node count: \d+$", out, re.M), out


MNTR_REQUIRED = [
    "zk_version",
    "zk_server_state",
    "zk_avg_latency",
    "zk_max_latency",
    "zk_min_latency",
    "zk_packets_received",
    "zk_packets_sent",
    "zk_num_alive_connections",
    "zk_outstanding_requests",
    "zk_znode_count",
    "zk_watch_count",
    "zk_ephemerals_count",
    "zk_approximate_data_size",
]


def test_mntr(zk, root):
    zk.create(root + "/e", ephemeral=True)
    zk.exists(root + "/e", watch=lambda e: None)
    out = flw("mntr")  # read to EOF: Apache's mntr is longer than 8 KiB
    assert out.endswith("\n")
    kv = {}
    for line in out.splitlines():
        m = re.match(r"^(zk_[A-Za-z0-9_.\-]+)\t(.*)$", line)
        assert m, "bad mntr line %r" % line
        kv[m.group(1)] = m.group(2)
    for k in MNTR_REQUIRED:
        assert k in kv, k
    assert re.match(r"^\d+\.\d+\.\d+", kv["zk_version"])
    assert kv["zk_server_state"] == "standalone"
    for k in ("zk_znode_count", "zk_ephemerals_count", "zk_watch_count", "zk_num_alive_connections"):
        assert re.match(r"^\d+$", kv[k]), (k, kv[k])
    assert int(kv["zk_ephemerals_count"]) >= 1
    assert int(kv["zk_watch_count"]) >= 1
    assert int(kv["zk_num_alive_connections"]) >= 1
    assert re.match(r"^\d+(\.\d+)?$", kv["zk_avg_latency"])
    # zk_version is the first line (what kazoo's single-recv command() gets)
    assert out.startswith("zk_version\t")
    assert zk.command(b"mntr").startswith("zk_version\t")


def test_isro_envi_conf(zk):
    assert flw("isro") == "rw"
    envi = flw("envi")
    assert envi.startswith("Environment:\n")
    assert re.search(r"^zookeeper\.version=\d+\.\d+\.\d+", envi, re.M)
    conf = flw("conf")
    assert re.search(r"^clientPort=\d+$", conf, re.M)
    assert re.search(r"^tickTime=\d+$", conf, re.M)


def test_server_version(zk):
    v = zk.server_version()  # parsed by kazoo from `envi`
    assert isinstance(v, tuple) and len(v) >= 3
    # we target the 3.8/3.9 feature set
    assert v[0] == 3 and v[1] >= 5


def test_unknown_four_letter_word_harmless(zk):
    try:
        flw("zzzz")  # Apache: closes the connection without output
    except OSError:
        pass
    assert zk.command(b"ruok") == "imok"
    assert zk.exists("/") is not None
