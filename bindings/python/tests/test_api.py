"""The surface: every public name documented with a usable signature, the
stubs in agreement with the module, no reference or memory leaks on any
path (results, errors, documents, batches).
"""
import gc
import inspect
import os
import subprocess
import sys
import tracemalloc
from array import array

import pytest

import shardrouter as sr
from conftest import BINDING, keyspace_doc

PUBLIC = [getattr(sr, n) for n in sr.__all__]


def test_every_public_name_has_a_docstring():
    missing = []
    for obj in [sr] + PUBLIC:
        if isinstance(obj, (int, str)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(repr(obj))
        if isinstance(obj, type):
            for name, member in vars(obj).items():
                if name.startswith("_") or not callable(member) and \
                        not isinstance(member, property) and \
                        type(member).__name__ != "getset_descriptor":
                    continue
                if not (getattr(member, "__doc__", "") or "").strip():
                    missing.append("%s.%s" % (obj.__name__, name))
    assert missing == []


def test_signatures_are_introspectable():
    assert str(inspect.signature(sr.Router.route)) == \
        "(self, keyspace, table, value, /)"
    assert str(inspect.signature(sr.Table.route)) == "(self, value, /)"
    assert str(inspect.signature(sr.Router.route_target)) == \
        "(self, keyspace, table, value, /, *, shard_routing=False)"
    assert str(inspect.signature(sr.Table.route_target)) == \
        "(self, value, /, *, shard_routing=False)"
    assert "allow_destructive=False" in str(
        inspect.signature(sr.Router.publish))
    assert str(inspect.signature(sr.keyspace_id)) == \
        "(vindex_type, value, /, params=None)"
    assert str(inspect.signature(sr.Router)) == \
        "(history=8, max_shrink=0.1, *, on_event=None, snapshot_path=None, " \
        "fence_cap=0)"
    assert str(inspect.signature(sr.Router.set_sample)) == \
        "(self, keys, /, *, max_moved=1.0, max_unroutable=0.0)"
    assert str(inspect.signature(sr.verify_snapshot)) == "(path, /)"


def test_types_live_in_the_shardrouter_namespace():
    for t in (sr.Router, sr.Table, sr.Value, sr.Verdict, sr.DiffEntry,
              sr.Error, sr.RefusedError, sr.DocumentError, sr.NoRouteError):
        assert t.__module__ == "shardrouter", t
    assert issubclass(sr.RefusedError, sr.Error)
    assert issubclass(sr.DocumentError, (sr.Error, ValueError))
    assert issubclass(sr.NoRouteError, (sr.Error, LookupError))
    e = sr.Error("by hand")
    assert e.code is None and e.culprit is None
    with pytest.raises(TypeError):
        class Sub(sr.Router):  # noqa: F841 (not subclassable)
            pass


def test_codes_are_the_c_library_codes():
    assert (sr.EINVAL, sr.EEMPTY, sr.ESHRINK, sr.EIO) == (-1, -8, -11, -19)
    assert sr.NO_SHARD == 2**32 - 1 and sr.NONE == 1
    assert sr.__version__.count(".") == 2


def test_stubs_match_the_module():
    try:
        import mypy.stubtest  # noqa: F401
    except ImportError:
        pytest.skip("mypy not installed (Debian: python3-mypy)")
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "shardrouter",
         "--allowlist", os.path.join(BINDING, "stubtest-allowlist.txt")],
        cwd=BINDING, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_ships_stubs_and_py_typed():
    pkg = os.path.join(BINDING, "shardrouter")
    assert os.path.exists(os.path.join(pkg, "py.typed"))
    assert os.path.exists(os.path.join(pkg, "__init__.pyi"))


def exercise(r, t, buf, out):
    r.route("user", "users", 1)
    r.route("user", "users", "abc")
    r.route("user", "users", 2**64 - 1)
    t.route(5)
    t.lookup(5)
    r.route_target("user", "users", 1)
    t.route_target(5)
    r.route_many("user", "users", buf)
    r.route_many("user", "users", list(range(300)))
    r.route_many("user", "users", buf, out=out)
    r.route_many("user", "users", [1, "x", None])
    sr.keyspace_id("xxhash", b"x" * 100)
    sr.keyspace_id("numeric_static_map", 1, params={"json": '{"1": 2}'})
    r.check(keyspace_doc(4))
    r.export()
    r.history()
    r.stats()
    for f, exc in ((lambda: r.route("user", "nope", 1), sr.NoRouteError),
                   (lambda: r.route("user", "users", 2**64), OverflowError),
                   (lambda: r.route("user", "users", 1.5), TypeError),
                   (lambda: r.route_target("user", "nope", 1),
                    sr.NoRouteError),
                   (lambda: r.publish("{"), sr.DocumentError),
                   (lambda: r.publish({"keyspaces": {"user": {}}}),
                    sr.RefusedError),
                   (lambda: r.route_many("user", "users", [1, 2**70]),
                    OverflowError),
                   (lambda: r.rollback(5), sr.Error),
                   (lambda: sr.keyspace_id("nope", 1), ValueError)):
        with pytest.raises(exc):
            f()


def test_no_leaks_on_any_path():
    r = sr.Router(history=2)
    r.publish(keyspace_doc())
    t = r.table("user", "users")
    buf = array("q", range(1000))
    out = array("I", bytes(4000))
    for _ in range(50):  # warm up caches, interned strs, free lists
        exercise(r, t, buf, out)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(500):
        exercise(r, t, buf, out)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename")
                if s.size_diff > 0)
    assert grown < 64 * 1024, after.compare_to(before, "lineno")[:5]


@pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer's quarantine keeps freed memory")
def test_routers_and_tables_are_freed():
    import resource
    gc.collect()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(300):
        r = sr.Router()
        r.publish(keyspace_doc(64))
        t = r.table("user", "users")
        r.route_many("user", "users", array("q", range(5000)))
        t.route(1)
        del r, t
    gc.collect()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss1 - rss0 < 50 * 1024  # KiB: no per-router leak


def test_the_module_exports_only_its_init_function():
    import shutil
    so = sr._shardrouter.__file__
    if shutil.which("nm") is None:
        pytest.skip("nm not installed")
    out = subprocess.run(["nm", "-D", "--defined-only", so],
                         capture_output=True, text=True, check=True).stdout
    names = [line.split()[-1] for line in out.splitlines() if line.strip()]
    assert names == ["PyInit__shardrouter"]


def test_the_readme_example_runs_as_written(monkeypatch, capsys):
    """README.md's Python example, run as written from the repository root
    (where its VSchema path points), gives the results it shows.  make
    test-python-sdist runs it again with the module installed from an
    sdist."""
    import re
    from conftest import ROOT
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    code = re.search(r"<!-- readme-example-python:begin -->\n```python\n"
                     r"(.*?)```\n<!-- readme-example-python:end -->",
                     text, re.S).group(1)
    monkeypatch.chdir(ROOT)
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert re.fullmatch(r"customer: keyspace customer is sharded .*"
                        r"\(ROUTER_EEMPTY\)\n", capsys.readouterr().out)
    router, customers = ns["ROUTER"], ns["CUSTOMERS"]
    assert router.route("customer", "customer", 29999) == "-80"
    assert customers.route(29999) == "-80"
    assert customers.route_many([1, 29999]) == ["80-", "-80"]
    assert router.version == 1
    e = ns["e"] if "e" in ns else None
    with pytest.raises(sr.RefusedError) as ei:
        router.publish({"keyspaces": {"customer": {}}})
    assert ei.value.code == sr.EEMPTY and ei.value.culprit == "customer"
    assert ei.value.diff[0] == ("keyspace", "changed", "customer",
                                "customer", "sharded -> unsharded")
    assert e is None  # the except block's name is unbound after it
