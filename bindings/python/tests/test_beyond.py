"""Beyond the guards (issue 8) from Python: last-known-good snapshots,
quarantine, fencing, operator invariants and shadow evaluation.
"""
import json
import os
import pathlib
import threading
import time
import warnings

import pytest

import shardrouter as sr
from conftest import keyspace_doc, shard_for

TABLES = ("users", "orders", "items", "carts")
KEYS = list(range(200)) + [2**63, "abc", b"abc"]


def doc(shards=4, tables=TABLES, **kw):
    return keyspace_doc(shards, tables=tables, **kw)


def live(document=None, **opts):
    r = sr.Router(**opts)
    r.publish(document if document is not None else doc())
    return r


def routes(r):
    return [r.route("user", "users", k) for k in KEYS]


# ---- last-known-good snapshots ---------------------------------------------

def test_snapshot_round_trip(tmp_path):
    path = tmp_path / "routes.lkg"
    r = sr.Router()
    r.publish(doc(), version=7)
    assert r.save_snapshot(path) is None
    info = sr.verify_snapshot(path)
    assert isinstance(info, sr.SnapshotInfo)
    assert info == (7, r.content_hash)
    assert (info.version, info.content_hash) == (7, r.content_hash)
    assert sr.verify_snapshot(str(path)) == info
    assert sr.verify_snapshot(os.fsencode(path)) == info

    back = sr.Router.from_snapshot(path, history=4, fence_cap=8)
    assert isinstance(back, sr.Router)
    assert (back.version, back.content_hash) == (7, r.content_hash)
    assert routes(back) == routes(r)
    assert back.export() == r.export()
    # The guards run on from there: the version keeps moving forward.
    with pytest.raises(sr.RefusedError) as ei:
        back.publish(doc(8), version=7)
    assert ei.value.code == sr.EVERSION
    assert back.publish(doc(8)).version == 8
    # Options are Router()'s and checked the same way.
    with pytest.raises(ValueError):
        sr.Router.from_snapshot(path, history=0)
    with pytest.raises(TypeError):
        sr.Router.from_snapshot(path, nope=1)
    with pytest.raises(TypeError):
        sr.Router.from_snapshot()


def test_corrupted_or_truncated_snapshots_are_refused_whole(tmp_path):
    path = tmp_path / "routes.lkg"
    live().save_snapshot(path)
    good = path.read_bytes()
    bad = tmp_path / "bad.lkg"
    cases = [good[:n] for n in range(len(good))]  # every truncation
    for i in range(len(good)):                     # a flipped bit per byte
        b = bytearray(good)
        b[i] ^= 1 << (i % 8)
        cases.append(bytes(b))
    cases.append(good + b" ")                       # extended
    for content in cases:
        bad.write_bytes(content)
        with pytest.raises(sr.DocumentError) as ei:
            sr.verify_snapshot(bad)
        assert ei.value.code == sr.EDOC, content[:60]
        assert ei.value.message and ei.value.notes == ()
        assert isinstance(ei.value, ValueError)
    bad.write_bytes(good.replace(b"xxh3=", b"xxh3=0"))
    with pytest.raises(sr.DocumentError) as ei:
        sr.Router.from_snapshot(bad)
    assert ei.value.code == sr.EDOC and ei.value.path == ""

    with pytest.raises(FileNotFoundError) as ei:
        sr.verify_snapshot(tmp_path / "missing.lkg")
    assert ei.value.filename == tmp_path / "missing.lkg"
    with pytest.raises(FileNotFoundError):
        sr.Router.from_snapshot(tmp_path / "missing.lkg")
    with pytest.raises((OSError, sr.DocumentError)):
        sr.verify_snapshot(tmp_path)
    with pytest.raises(TypeError):
        sr.verify_snapshot(42)


def test_save_snapshot_errors(tmp_path):
    with pytest.raises(sr.Error) as ei:
        sr.Router().save_snapshot(tmp_path / "x.lkg")
    assert ei.value.code == sr.ENOTFOUND
    target = tmp_path / "no" / "such" / "dir"
    with pytest.raises(OSError) as ei:
        live().save_snapshot(target)
    assert str(target) in str(ei.value) and "ROUTER_EIO" in str(ei.value)
    assert not (tmp_path / "no").exists()
    with pytest.raises(TypeError):
        live().save_snapshot(None)
    with pytest.raises(ValueError):
        live().save_snapshot("a\0b")


def test_snapshot_path_saves_after_every_accepted_publish_and_rollback(
        tmp_path):
    path = tmp_path / "routes.lkg"
    r = sr.Router(snapshot_path=path)
    assert not path.exists()
    r.publish(doc())
    assert sr.verify_snapshot(path) == (1, r.content_hash)
    r.publish(doc(8))
    assert sr.verify_snapshot(path).version == 2
    with pytest.raises(sr.RefusedError):
        r.publish({"keyspaces": {}})
    assert sr.verify_snapshot(path).version == 2
    r.rollback()
    assert sr.verify_snapshot(path) == (1, r.content_hash)
    s = r.stats()
    assert (s["snapshots_saved"], s["snapshots_failed"]) == (3, 0)
    # The incident's second act: the process restarts during the bad
    # period and comes back from its snapshot.
    restarted = sr.Router.from_snapshot(path, snapshot_path=str(path))
    assert routes(restarted) == routes(r)
    assert restarted.version == 1


def test_a_failed_automatic_snapshot_warns_and_the_publish_stands(tmp_path):
    seen = []
    r = sr.Router(snapshot_path=tmp_path / "gone" / "routes.lkg",
                  on_event=seen.append)
    with pytest.warns(sr.SnapshotWarning, match="snapshot not saved"):
        assert r.publish(doc()).accepted
    assert r.version == 1
    assert r.stats()["snapshots_failed"] == 1
    assert [(e.kind, e.code) for e in seen] == [("publish", 0),
                                               ("snapshot", sr.EIO)]
    assert seen[1].culprit
    # Turned into an error by a filter, the warning raises after the
    # publish: the table is in service all the same.
    with warnings.catch_warnings():
        warnings.simplefilter("error", sr.SnapshotWarning)
        with pytest.raises(sr.SnapshotWarning):
            r.publish(doc(8))
    assert r.version == 2


# ---- quarantine --------------------------------------------------------------

def test_quarantine_then_approve():
    seen = []
    r = live(on_event=seen.append)
    before = routes(r)
    assert r.pending is None
    with pytest.raises(sr.QuarantinedError) as ei:
        r.publish(doc(tables=("users",)), quarantine=True)
    e = ei.value
    assert isinstance(e, sr.RefusedError)
    assert (e.code, e.name) == (sr.EQUARANTINED, "ROUTER_EQUARANTINED")
    assert (e.guard_code, e.guard_name) == (sr.ESHRINK, "ROUTER_ESHRINK")
    assert e.culprit == "user" and e.reason
    assert sum(d.kind == "table" and d.op == "removed" for d in e.diff) == 3
    assert r.version == 1 and routes(r) == before

    p = r.pending
    assert isinstance(p, sr.Pending)
    assert (p.code, p.name, p.culprit) == (sr.ESHRINK, "ROUTER_ESHRINK",
                                           "user")
    assert p.reason and p.version == 0 and p.since_unix_ns > 0
    assert sum(d.op == "removed" for d in p.diff) == 3

    v = r.approve_pending()
    assert isinstance(v, sr.Verdict) and v.accepted
    assert v.version == 2 and r.version == 2
    assert r.pending is None
    assert r.content_hash == p.content_hash == v.content_hash
    s = r.stats()
    assert (s["quarantined"], s["approved"]) == (1, 1)
    assert s["refused_by_code"]["ROUTER_ESHRINK"] == 1
    with pytest.raises(sr.Error) as ei:
        r.approve_pending()
    assert ei.value.code == sr.ENOTFOUND
    assert [(x.kind, x.code) for x in seen][1:] == [
        ("publish", sr.EQUARANTINED), ("publish", 0)]


def test_quarantine_then_discard_fences_the_content():
    seen = []
    r = live(fence_cap=8, on_event=seen.append)
    empty = {"keyspaces": {"user": {}}}
    with pytest.raises(sr.QuarantinedError) as ei:
        r.publish(empty, quarantine=True)
    assert ei.value.guard_code == sr.EEMPTY
    h = r.pending.content_hash
    assert r.pending.code == sr.EEMPTY
    assert r.discard_pending() is True
    assert r.pending is None
    assert r.discard_pending() is False
    assert r.stats()["discarded"] == 1
    assert [(f.content_hash, f.origin) for f in r.fences()] == [
        (h, "discarded")]
    assert seen[-1].kind == "discard"
    with pytest.raises(sr.FencedError):
        r.publish(empty, quarantine=True)
    assert r.pending is None


def test_quarantine_is_superseded_and_skips_other_refusals():
    seen = []
    r = live(on_event=seen.append)
    with pytest.raises(sr.QuarantinedError):
        r.publish(doc(tables=("users",)), quarantine=True)
    assert r.publish(doc(8)).version == 2
    assert r.pending is None
    assert r.stats()["discarded"] == 1
    assert [x.kind for x in seen][-2:] == ["discard", "publish"]
    # A stale version is refused as usual, never kept.
    with pytest.raises(sr.RefusedError) as ei:
        r.publish(doc(), version=1, quarantine=True)
    assert not isinstance(ei.value, sr.QuarantinedError)
    assert ei.value.code == sr.EVERSION
    assert r.pending is None
    # check() has no quarantine: it never keeps anything.
    with pytest.raises(TypeError):
        r.check(doc(), quarantine=True)


def test_an_approval_refused_by_a_fence_stays_pending():
    r = live(fence_cap=4)
    with pytest.raises(sr.QuarantinedError):
        r.publish(doc(tables=("users",)), quarantine=True)
    r.fence(r.pending.content_hash)
    with pytest.raises(sr.FencedError):
        r.approve_pending()
    assert r.pending is not None and r.version == 1
    r.clear_fences()
    assert r.approve_pending().accepted


# ---- fences -------------------------------------------------------------------

def test_a_refused_table_pushed_again_under_a_new_version_is_fenced():
    r = live(fence_cap=4)
    small = doc(tables=("users",))
    with pytest.raises(sr.RefusedError) as ei:
        r.publish(small)
    assert ei.value.code == sr.ESHRINK
    [f] = r.fences()
    assert isinstance(f, sr.Fence)
    assert (f.origin, f.code, f.name) == ("refused", sr.ESHRINK,
                                          "ROUTER_ESHRINK")
    assert f.fenced_unix_ns > 0
    # Any version, even destructive: refused at once.
    for v in (5, 100, None):
        with pytest.raises(sr.FencedError) as ei:
            r.publish(small, version=v, allow_destructive=True)
        assert ei.value.code == sr.EFENCED
        assert isinstance(ei.value, sr.RefusedError)
        assert "fenced" in ei.value.reason
    assert r.version == 1 and r.stats()["fences"] == 1
    assert r.check(small, allow_destructive=True).code == sr.EFENCED

    assert r.lift_fence(f.content_hash) is True
    assert r.lift_fence(f.content_hash) is False
    assert r.fences() == []
    assert r.publish(small, allow_destructive=True).version == 2


def test_rollbacks_and_manual_fences():
    r = live(fence_cap=4)
    r.publish(doc(8))
    bad = r.content_hash
    r.rollback()
    assert [(f.content_hash, f.origin, f.version) for f in r.fences()] == [
        (bad, "rolled_back", 2)]
    with pytest.raises(sr.FencedError):
        r.publish(doc(8))
    assert r.clear_fences() is None
    assert r.fences() == []
    assert r.publish(doc(8)).version == 3

    assert r.fence(r.content_hash) is None  # a peer's fence
    assert [(f.origin, f.code, f.name) for f in r.fences()] == [
        ("manual", 0, None)]
    r.publish(doc(2))
    with pytest.raises(sr.FencedError):
        r.publish(doc(8))
    for bad_hash in (-1, 2**64):
        with pytest.raises(ValueError):
            r.fence(bad_hash)
    with pytest.raises(TypeError):
        r.fence("abc")

    plain = live()
    with pytest.raises(sr.Error) as ei:
        plain.fence(1)
    assert ei.value.code == sr.ESTATE
    assert plain.fences() == []
    for cap in (-1, 65537):
        with pytest.raises(ValueError):
            sr.Router(fence_cap=cap)


# ---- invariants ----------------------------------------------------------------

def test_invariants_refuse_and_accept():
    r = live()
    specs = ["user sharded", "user shards >= 4", "user tables users,orders",
             "user.users vindex hash"]
    for s in specs:
        assert r.add_invariant(s) is None
    r.add_invariant("user sharded  # twice: a no-op")
    assert r.invariants() == specs
    assert r.stats()["invariants"] == 4

    cases = [
        (doc(2), "user"),                                      # shards >= 4
        (doc(tables=("users", "items", "carts")), "user.orders"),  # tables
        (doc(vindex="xxhash"), "user.users"),                  # vindex type
        ({"keyspaces": {"user": {"sharded": False}, "x": {}}}, "user"),
    ]
    for bad, culprit in cases:
        with pytest.raises(sr.InvariantError) as ei:
            r.publish(bad, allow_destructive=True)
        e = ei.value
        assert e.code == sr.EINVARIANT and isinstance(e, sr.RefusedError)
        assert e.culprit == culprit and "user" in e.reason
        assert r.version == 1
    assert r.publish(doc(8, tables=("users", "orders", "items")),
                     allow_destructive=True).version == 2

    assert r.remove_invariant("user   shards >= 4") is True
    assert r.remove_invariant("user shards >= 4") is False
    assert r.publish(doc(2, tables=("users", "orders", "items"))).version == 3
    assert r.invariants() == [s for s in specs if s != "user shards >= 4"]

    with pytest.raises(ValueError):
        r.add_invariant("user is nice")
    with pytest.raises(ValueError):
        r.remove_invariant("user is nice")
    with pytest.raises(sr.InvariantError) as ei:
        r.add_invariant("user shards >= 16")
    assert ei.value.code == sr.EINVARIANT and ei.value.diff == ()
    assert r.invariants() == [s for s in specs if s != "user shards >= 4"]
    with pytest.raises(TypeError):
        r.add_invariant(None)
    with pytest.raises(ValueError):
        r.add_invariant("user\0sharded")


def test_long_invariants_come_back_whole():
    tables = tuple("t%03d_%s" % (i, "x" * 40) for i in range(60))
    r = live(doc(tables=tables))
    spec = "user tables " + ",".join(tables)
    assert len(spec) > 2048
    r.add_invariant(spec)
    assert r.invariants() == [spec]


# ---- shadow evaluation -----------------------------------------------------------

def sample():
    return [("user", "users", k) for k in KEYS]


def expected_moves(r, to_shards):
    names = sr.shard_ranges(to_shards)
    moved = 0
    for k in KEYS:
        ksid = sr.keyspace_id("hash", k)
        new = shard_for(ksid, names) if ksid is not None else None
        moved += r.route("user", "users", k) != new
    return moved


def test_check_returns_the_shadow_verdict():
    r = live()
    assert r.check(doc(8)).shadow is None
    assert r.set_sample(sample()) is None
    v = r.check(doc(8))
    assert v.accepted and v.diff
    sv = v.shadow
    assert isinstance(sv, sr.ShadowVerdict)
    assert list(sv.keyspaces) == ["user"]
    st = sv.keyspaces["user"]
    assert isinstance(st, sr.ShadowStat)
    moved = expected_moves(r, 8)
    assert moved > 0
    assert (st.keyspace, st.keys, st.routed, st.moved, st.unroutable,
            st.newly_routable) == ("user", len(KEYS), len(KEYS), moved, 0, 0)
    assert sv.totals == ("", len(KEYS), len(KEYS), moved, 0, 0)
    assert r.stats()["shadow_runs"] == 1
    # Nothing changed, and an unchanged table moves nothing.
    assert r.version == 1
    assert r.check(doc()).shadow.keyspaces["user"].moved == 0
    # An accepted publish carries its verdict too.
    assert r.publish(doc(8)).shadow.totals.moved == moved
    r.set_sample([])
    assert r.check(doc(4)).shadow is None


def test_shadow_thresholds_refuse_publishes():
    seen = []
    r = live(max_shrink=1.0, on_event=seen.append)
    r.set_sample(sample(), max_moved=0.25)
    moved = expected_moves(r, 8)
    with pytest.raises(sr.ShadowError) as ei:
        r.publish(doc(8))
    e = ei.value
    assert e.code == sr.ESHADOW and isinstance(e, sr.RefusedError)
    assert e.culprit == "user"
    assert e.shadow.keyspaces["user"].moved == moved
    assert e.diff and r.version == 1
    assert seen[-1].shadow.totals.moved == moved
    # check says the same, without raising.
    v = r.check(doc(8))
    assert (v.accepted, v.code) == (False, sr.ESHADOW)
    assert v.shadow.keyspaces["user"].moved == moved
    # The destructive flag overrides it; the verdict is still computed.
    assert r.publish(doc(8), allow_destructive=True).shadow.totals.moved == \
        moved

    # Dropping the sampled table strands its keys: max_unroutable 0.
    r.set_sample(sample())
    gone = doc(8, tables=("orders", "items", "carts"))
    with pytest.raises(sr.ShadowError) as ei:
        r.publish(gone)
    assert ei.value.shadow.keyspaces["user"].unroutable == len(KEYS)
    with pytest.raises(sr.QuarantinedError) as ei:
        r.publish(gone, quarantine=True)
    assert ei.value.guard_code == sr.ESHADOW
    assert ei.value.shadow.totals.unroutable == len(KEYS)
    assert r.pending.code == sr.ESHADOW
    assert r.approve_pending().version == 3


def test_set_sample_arguments():
    r = live()
    r.set_sample([("user", "users", (1, 2))])  # multicolumn: checked later
    r.set_sample([["user", "users", bytearray(b"x")],
                  ("user", "users", memoryview(b"y")),
                  ("user", "users", sr.Value("uint64", "5"))])
    r.set_sample(("user", "users", k) for k in range(10))  # any iterable
    with pytest.raises(TypeError):
        r.set_sample("user")
    with pytest.raises(TypeError):
        r.set_sample(42)
    with pytest.raises(ValueError):
        r.set_sample([("user", "users")])
    with pytest.raises(TypeError):
        r.set_sample([(1, "users", 1)])
    with pytest.raises(TypeError):
        r.set_sample([("user", "users", 1.5)])
    with pytest.raises(OverflowError):
        r.set_sample([("user", "users", 2**64)])
    with pytest.raises(ValueError):
        r.set_sample(sample(), max_moved=1.5)
    with pytest.raises(ValueError):
        r.set_sample(sample(), max_unroutable=-0.1)
    with pytest.raises(ValueError):
        r.set_sample(sample(), max_moved=float("nan"))
    with pytest.raises(TypeError):
        r.set_sample(sample(), max_moved="1")
    with pytest.raises(ValueError):
        r.set_sample([("user", "x" * 200, 1)])
    # A failed call keeps the previous sample.
    assert r.check(doc(8)).shadow.totals.keys == 10


def test_stats_count_beyond_the_guards():
    s = sr.Router().stats()
    for k in ("snapshots_saved", "snapshots_failed", "quarantined",
              "approved", "discarded", "fences", "invariants",
              "shadow_runs"):
        assert s[k] == 0, k


def test_threads_with_automatic_snapshots(tmp_path):
    """Publishes of a router with snapshot_path, checks on a sample,
    saves, rollbacks and lookups from several threads: no deadlock, every
    lookup sees one of the two tables, the file ends up in service."""
    path = tmp_path / "routes.lkg"
    r = live(snapshot_path=path, history=4)
    r.set_sample(sample())
    want = {4: routes(r), 8: routes(live(doc(8)))}
    deadline = time.monotonic() + 1.0
    wrong = []

    def writer(n):
        i = 0
        while time.monotonic() < deadline:
            i += 1
            op = (i + n) % 4
            if op == 0:
                r.publish(doc(4 if i % 2 else 8))
            elif op == 1:
                v = r.check(doc(8)).shadow
                if v is None or v.totals.keys != len(KEYS):
                    wrong.append(v)
            elif op == 2:
                r.save_snapshot(tmp_path / ("copy-%d.lkg" % n))
            else:
                try:
                    r.rollback()
                except sr.Error:
                    pass

    def reader():
        while time.monotonic() < deadline:
            for i, g in enumerate(routes(r)):
                if g not in (want[4][i], want[8][i]):
                    wrong.append((KEYS[i], g))
            r.table("user", "users").route(1)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert sr.verify_snapshot(path) == (r.version, r.content_hash)
    assert r.stats()["snapshots_failed"] == 0
    for n in range(2):
        sr.verify_snapshot(tmp_path / ("copy-%d.lkg" % n))


def test_no_leaks_beyond_the_guards(tmp_path):
    import gc
    import tracemalloc
    path = tmp_path / "routes.lkg"
    r = live(fence_cap=4)
    r.save_snapshot(path)

    def exercise():
        r.set_sample(sample(), max_moved=0.5)
        r.check(doc(8))
        with pytest.raises(sr.ShadowError):
            r.publish(doc(8))
        with pytest.raises(sr.QuarantinedError):
            r.publish({"keyspaces": {"user": {}}}, quarantine=True)
        r.pending
        r.discard_pending()
        r.fences()
        r.clear_fences()
        r.add_invariant("user sharded")
        with pytest.raises(sr.InvariantError):
            r.add_invariant("user shards >= 64")
        r.invariants()
        r.remove_invariant("user sharded")
        sr.verify_snapshot(path)
        with pytest.raises(FileNotFoundError):
            sr.verify_snapshot(tmp_path / "missing")
        r.stats()

    for _ in range(30):
        exercise()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(200):
        exercise()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename")
                if s.size_diff > 0)
    assert grown < 64 * 1024, after.compare_to(before, "lineno")[:5]
