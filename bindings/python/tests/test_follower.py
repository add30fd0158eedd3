"""shardrouter.Follower against a real etcd on loopback (Debian's
/usr/bin/etcd, a dependency of make test-python): one etcd per module on
ports the kernel says are free, a temporary data directory, killed at the
end.  Values are written with etcd's JSON gateway (/v3/kv/put, base64).

The document source follows one key; the Vitess source follows a cell
laid out from tests/data/topo/ (tools/gen_topo_fixtures.py's values:
SrvVSchema, SrvKeyspace; CellInfo encoded here, two string fields), one
cell per test so the tests share the etcd but not their keys.
"""
import base64
import gc
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

import shardrouter as sr
from conftest import keyspace_doc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
TOPO = os.path.join(ROOT, "tests", "data", "topo")
ETCD = "/usr/bin/etcd"

pytestmark = pytest.mark.skipif(
    not sr.HAVE_FOLLOWER, reason="built without the follower")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Etcd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sr-etcd-")
        for _ in range(5):
            cp, pp = free_port(), free_port()
            self.endpoint = "http://127.0.0.1:%d" % cp
            peer = "http://127.0.0.1:%d" % pp
            log = open(os.path.join(self.dir, "etcd.log"), "ab")
            self.proc = subprocess.Popen(
                [ETCD, "--name", "default", "--data-dir",
                 os.path.join(self.dir, "data"), "--listen-client-urls",
                 self.endpoint, "--advertise-client-urls", self.endpoint,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls",
                 peer, "--initial-cluster", "default=" + peer,
                 "--log-level", "warn"], stdout=log, stderr=log)
            log.close()
            t0 = time.monotonic()
            while time.monotonic() - t0 < 15 and self.proc.poll() is None:
                try:
                    self.call("/v3/kv/range", {"key": self.b64("/")})
                    return
                except OSError:
                    time.sleep(0.05)
            self.proc.kill()
            self.proc.wait()
        raise RuntimeError("etcd did not start (log in %s)" % self.dir)

    @staticmethod
    def b64(b):
        if isinstance(b, str):
            b = b.encode()
        return base64.b64encode(b).decode()

    def call(self, path, body):
        req = urllib.request.Request(self.endpoint + path,
                                     json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def put(self, key, value):
        """Returns the revision of the write."""
        r = self.call("/v3/kv/put", {"key": self.b64(key),
                                     "value": self.b64(value)})
        return int(r["header"]["revision"])

    def get(self, key):
        r = self.call("/v3/kv/range", {"key": self.b64(key)})
        kvs = r.get("kvs", [])
        return base64.b64decode(kvs[0]["value"]) if kvs else None

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def etcd():
    if not os.access(ETCD, os.X_OK):
        pytest.fail("no %s: apt-get install etcd-server (make deps-python)"
                    % ETCD)
    e = Etcd()
    yield e
    e.stop()


def fixture(name):
    with open(os.path.join(TOPO, name), "rb") as f:
        return f.read()


def cellinfo(root, address="127.0.0.1:2379"):
    """topodata.CellInfo{server_address = 1, root = 2}."""
    def field(num, s):
        b = s.encode()
        return bytes([num << 3 | 2, len(b)]) + b
    return field(1, address) + field(2, root)


def lay_out_cell(etcd, cell, srvks_customer="srvks_customer.bin"):
    root = "/vitess/" + cell
    etcd.put("/vitess/global/cells/%s/CellInfo" % cell, cellinfo(root))
    etcd.put(root + "/keyspaces/commerce/SrvKeyspace",
             fixture("srvks_commerce.bin"))
    etcd.put(root + "/keyspaces/customer/SrvKeyspace",
             fixture(srvks_customer))
    return etcd.put(root + "/SrvVSchema", fixture("srv_vschema.bin"))


def vitess_follower(etcd, r, cell, **kw):
    kw.setdefault("backoff_min_ms", 50)
    kw.setdefault("backoff_max_ms", 500)
    return sr.Follower(r, etcd.endpoint, source="vitess", cell=cell,
                       cell_endpoints=etcd.endpoint, debounce_ms=20, **kw)


def wait_for(pred, timeout=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.02)
    return False


def customer_shards(r):
    return {r.route("customer", "customer", k) for k in range(200)}


# ---- the document source ---------------------------------------------------

def test_document_key_is_followed_and_routed(etcd):
    r, events = sr.Router(), []
    rev = etcd.put("/t1/doc", json.dumps(keyspace_doc(shards=2)))
    f = sr.Follower(r, [etcd.endpoint], key="/t1/doc", instance="m1",
                    on_event=events.append)
    assert f.instance_id == "m1" and f.status_key == "/t1/doc/status/m1"
    f.start()
    try:
        assert f.wait(rev, 10)
        assert r.route("user", "users", 29999) == "80-"
        assert wait_for(lambda: f.status()["state"] == "following")
        s = f.status()
        assert s["accepted"] == 1 and s["revision_applied"] == rev
        assert s["refusal"] is None
        # No latent watch for a document.
        assert s["latent"] == 0 and s["latent_finding"] is None
        assert s["latent_revision"] == 0 and s["latent_key"] is None
        assert wait_for(lambda: any(e.kind == "verdict" for e in events))
        v = [e for e in events if e.kind == "verdict"][0]
        assert v.code == 0 and v.name is None and v.revision == rev
        assert v.version == r.version and v.content_hash == r.content_hash
        assert isinstance(v, sr.FollowerEvent)
        # A second revision, resharded 2 -> 4.
        rev = etcd.put("/t1/doc", json.dumps(keyspace_doc(shards=4)))
        assert f.wait(rev, 10)
        assert r.route("user", "users", 29999) in sr.shard_ranges(4)
        # The status key is written under the prefix (the fleet's table).
        assert wait_for(lambda: etcd.get(f.status_key) is not None)
    finally:
        f.close()
    assert f.started is False


def test_document_empty_vschema_is_refused_and_routing_goes_on(etcd):
    r, events = sr.Router(), []
    good = etcd.put("/t2/doc", json.dumps(keyspace_doc(shards=2)))
    with sr.Follower(r, etcd.endpoint, key="/t2/doc",
                     on_event=events.append) as f:
        assert f.wait(good, 10)
        version = r.version
        bad = etcd.put("/t2/doc", json.dumps({"keyspaces": {}}))
        assert f.wait(bad, 10)
        s = f.status()
        assert s["refused"] == 1 and s["revision_refused"] == bad
        assert s["refusal"]["code"] < 0 and s["refusal"]["name"]
        assert r.version == version
        assert r.route("user", "users", 29999) == "80-"
        assert wait_for(lambda: any(e.kind == "verdict" and e.code != 0
                                    for e in events))
        e = [e for e in events if e.kind == "verdict" and e.code != 0][0]
        assert e.revision == bad and e.reason and e.version == version
    assert f.started is False


# ---- the Vitess source -----------------------------------------------------

def test_vitess_cell_is_followed_and_routed(etcd):
    r, events = sr.Router(), []
    rev = lay_out_cell(etcd, "zpy1")
    with vitess_follower(etcd, r, "zpy1", on_event=events.append,
                         instance="py") as f:
        assert f.status_key == "/librouter/status/vitess/zpy1/py"
        assert f.wait(rev, 10)
        assert r.version == rev
        assert customer_shards(r) == {"-80", "80-"}
        assert r.route("commerce", "product", 1) == "0"
        assert wait_for(lambda: any(e.kind == "connected" for e in events))
        assert any(e.kind == "verdict" and e.code == 0 for e in events)


def test_vitess_incident_srvvschema_is_refused_and_routing_goes_on(etcd):
    r, events = sr.Router(), []
    good = lay_out_cell(etcd, "zpy2")
    with vitess_follower(etcd, r, "zpy2", on_event=events.append) as f:
        assert f.wait(good, 10)
        bad = etcd.put("/vitess/zpy2/SrvVSchema",
                       fixture("srv_vschema_incident.bin"))
        assert f.wait(bad, 10)
        s = f.status()
        assert s["refused"] == 1 and s["revision_refused"] == bad
        assert "customer" in s["refusal"]["culprit"] + s["refusal"]["reason"]
        assert "/vitess/zpy2/SrvVSchema" in s["refusal"]["reason"]
        assert r.version == good
        assert customer_shards(r) == {"-80", "80-"}
        assert wait_for(lambda: any(e.kind == "verdict" and e.code != 0
                                    for e in events))
        # The repair is accepted.
        fixed = etcd.put("/vitess/zpy2/SrvVSchema",
                         fixture("srv_vschema.bin"))
        assert f.wait(fixed, 10)
        assert r.version == fixed and f.status()["accepted"] == 2


def test_vitess_resharding_is_followed_per_tablet_type(etcd):
    primary, replica = sr.Router(), sr.Router()
    rev = lay_out_cell(etcd, "zpy3")
    fp = vitess_follower(etcd, primary, "zpy3", instance="p")
    fr = vitess_follower(etcd, replica, "zpy3", instance="r",
                         tablet_type="replica")
    fp.start()
    fr.start()
    try:
        assert fp.wait(rev, 10) and fr.wait(rev, 10)
        ks = "/vitess/zpy3/keyspaces/customer/SrvKeyspace"
        mid = etcd.put(ks, fixture("srvks_customer_resharding.bin"))
        assert fp.wait(mid, 10) and fr.wait(mid, 10)
        assert customer_shards(primary) == {"-80", "80-"}
        assert customer_shards(replica) == set(sr.shard_ranges(4))
        done = etcd.put(ks, fixture("srvks_customer_4.bin"))
        assert fp.wait(done, 10)
        assert customer_shards(primary) == set(sr.shard_ranges(4))
    finally:
        fp.close()
        fr.close()


GV_CUSTOMER = "/vitess/global/keyspaces/customer/VSchema"
GV_COMMERCE = "/vitess/global/keyspaces/commerce/VSchema"


def test_vitess_latent_poison_shows_in_status(etcd):
    """The empty global VSchema (the January 2026 incident, before any
    rebuild) is latent: status() names its key and revision while the
    table in service is untouched, and the good value clears it."""
    r, events = sr.Router(), []
    etcd.put(GV_COMMERCE, fixture("keyspace_commerce.bin"))
    etcd.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))
    good = lay_out_cell(etcd, "zpy4")
    try:
        with vitess_follower(etcd, r, "zpy4", on_event=events.append) as f:
            assert f.wait(good, 10)
            time.sleep(0.3)
            assert f.status()["latent"] == 0
            bad = etcd.put(GV_CUSTOMER, fixture("empty.bin"))
            assert wait_for(lambda: f.status()["latent"] == 1)
            s = f.status()
            assert s["latent_key"] == GV_CUSTOMER
            assert s["latent_revision"] == bad
            lf = s["latent_finding"]
            assert lf["code"] == sr.ECOVERAGE
            assert lf["name"] == "ROUTER_ECOVERAGE"
            assert lf["culprit"] == GV_CUSTOMER
            assert GV_CUSTOMER in lf["reason"]
            assert s["version"] == good and s["refused"] == 0
            assert customer_shards(r) == {"-80", "80-"}
            assert wait_for(lambda: any(
                e.kind == "latent" and e.revision == bad for e in events))
            # The good value again: cleared.
            fixed = etcd.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))
            assert wait_for(lambda: f.status()["latent_revision"] == fixed)
            s = f.status()
            assert s["latent"] == 0
            assert s["latent_key"] == GV_CUSTOMER
            assert s["latent_finding"]["code"] == 0
            assert s["latent_finding"]["name"] is None
            assert "cleared" in s["latent_finding"]["reason"]
            assert r.version == good
    finally:
        # The global keys are shared by every cell of the module.
        etcd.put(GV_CUSTOMER, fixture("keyspace_customer.bin"))


# ---- the object ------------------------------------------------------------

def test_options_are_checked(etcd):
    r = sr.Router()
    with pytest.raises(sr.InvalidError):
        sr.Follower(r, "ftp://x", key="/k")
    with pytest.raises(sr.InvalidError):
        sr.Follower(r, etcd.endpoint)  # no key
    with pytest.raises(sr.InvalidError):
        sr.Follower(r, etcd.endpoint, source="vitess", cell="c",
                    tablet_type="bogus")
    with pytest.raises(ValueError):
        sr.Follower(r, etcd.endpoint, key="/k", source="zk")
    with pytest.raises(TypeError):
        sr.Follower(object(), etcd.endpoint, key="/k")
    with pytest.raises(TypeError):
        sr.Follower(r, etcd.endpoint, key="/k", on_event=1)


def test_tls_and_auth_options_reach_librouter(etcd):
    r = sr.Router()
    # librouter's own checks, so the options were passed through.
    with pytest.raises(sr.InvalidError, match="tls_key_file"):
        sr.Follower(r, "https://127.0.0.1:1", key="/k", tls_cert_file="c.pem")
    with pytest.raises(sr.InvalidError, match="https"):
        sr.Follower(r, etcd.endpoint, key="/k", tls_ca_file="ca.pem")
    with pytest.raises(sr.InvalidError, match="password"):
        sr.Follower(r, etcd.endpoint, key="/k", username="root")
    with pytest.raises(TypeError):
        sr.Follower(r, etcd.endpoint, key="/k", username="u", password=1)
    f = sr.Follower(r, "https://127.0.0.1:1", key="/k", tls_ca_file="ca.pem",
                    tls_cert_file="c.pem", tls_key_file="k.pem",
                    username="root", password="pw")
    f.close()


def test_start_twice_raises_and_close_is_final(etcd):
    f = sr.Follower(sr.Router(), etcd.endpoint, key="/t3/doc")
    f.start()
    with pytest.raises(sr.InvalidError, match="already started"):
        f.start()
    f.stop()
    f.stop()  # no-op
    f.start()  # a stopped follower starts again
    f.close()
    f.close()
    with pytest.raises(sr.InvalidError, match="closed"):
        f.status()
    with pytest.raises(sr.InvalidError):
        f.start()


def test_stop_from_on_event_and_exceptions_do_not_kill_the_thread(
        etcd, monkeypatch):
    r, seen, unraisable = sr.Router(), [], []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    rev = etcd.put("/t4/doc", json.dumps(keyspace_doc()))
    holder = {}

    def on_event(ev):
        seen.append(ev.kind)
        if ev.kind == "verdict":
            holder["f"].stop()
            raise RuntimeError("ignored: reported as unraisable")

    holder["f"] = f = sr.Follower(r, etcd.endpoint, key="/t4/doc",
                                  on_event=on_event)
    f.start()
    assert wait_for(lambda: "verdict" in seen)
    assert wait_for(lambda: not f.started)
    assert wait_for(lambda: unraisable)
    assert isinstance(unraisable[0].exc_value, RuntimeError)
    assert r.route("user", "users", 29999) == "80-"
    assert f.status()["revision_seen"] == rev
    f.close()


def test_the_router_outlives_a_follower_dropped_while_running(etcd):
    r = sr.Router()
    rev = etcd.put("/t5/doc", json.dumps(keyspace_doc()))
    f = sr.Follower(r, etcd.endpoint, key="/t5/doc", on_event=lambda e: None)
    f.start()
    assert f.wait(rev, 10)
    del r
    gc.collect()
    rt = f.router
    assert rt.route("user", "users", 29999) == "80-"
    threads = threading.active_count()
    del f
    gc.collect()  # stops it: the event thread ends on its own
    assert wait_for(lambda: threading.active_count() < threads)
    assert rt.route("user", "users", 29999) == "80-"


def test_a_forked_child_does_not_use_the_parents_follower(etcd):
    f = sr.Follower(sr.Router(), etcd.endpoint, key="/t6/doc")
    f.start()
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                f.status()
            except sr.InvalidError as e:
                code = 0 if "fork" in str(e) else 2
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert f.status()["state"] in ("connecting", "following")
    finally:
        f.close()


def test_the_snapshot_routes_while_etcd_is_unreachable(etcd, tmp_path):
    snap = tmp_path / "lkg.snapshot"
    rev = etcd.put("/t7/doc", json.dumps(keyspace_doc()))
    with sr.Follower(sr.Router(), etcd.endpoint, key="/t7/doc",
                     snapshot=snap) as f:
        assert f.wait(rev, 10)
        assert wait_for(snap.exists)
    r, events = sr.Router(), []
    with sr.Follower(r, "http://127.0.0.1:1", key="/t7/doc", snapshot=snap,
                     on_event=events.append) as f:
        assert r.route("user", "users", 29999) == "80-"
        assert f.status()["from_snapshot"] is True
        assert wait_for(lambda: any(e.kind == "snapshot" and e.code == 0
                                    for e in events))


def test_numeric_options_never_wrap(etcd):
    r = sr.Router()
    for kw in ("lease_ttl", "backoff_min_ms", "request_timeout_ms",
               "debounce_ms"):
        with pytest.raises(OverflowError):
            sr.Follower(r, etcd.endpoint, key="/k", **{kw: -1})
        with pytest.raises(OverflowError):
            sr.Follower(r, etcd.endpoint, key="/k", **{kw: 2**32})
    with pytest.raises(TypeError):
        sr.Follower(r, etcd.endpoint, key="/k", lease_ttl="10")
