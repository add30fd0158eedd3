"""Shared fixtures for the shardrouter tests.

The extension is imported from bindings/python (built in place by
`make test-python`, i.e. setup.py build_ext --inplace); the data files are
the repository's tests/data, shared with the C suites.
"""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(HERE)
ROOT = os.path.normpath(os.path.join(BINDING, "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")

sys.path.insert(0, BINDING)

import shardrouter  # noqa: E402


def load_data(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return json.load(f)


def keyspace_doc(shards=2, vindex="hash", tables=("users",), params=None,
                 name="user", version=None):
    """A SrvVSchema with one sharded keyspace routed by one vindex."""
    v = {"type": vindex}
    if params:
        v["params"] = params
    ks = {
        "sharded": True,
        "shards": shardrouter.shard_ranges(shards)
        if isinstance(shards, int) else list(shards),
        "vindexes": {"v": v},
        "tables": {t: {"column_vindexes": [{"column": "id", "name": "v"}]}
                   for t in tables},
    }
    doc = {"keyspaces": {name: ks}}
    if version is not None:
        doc["version"] = version
    return doc


def norm(b):
    """Vitess v17+ comparison: trailing zero bytes are ignored."""
    return b.rstrip(b"\0")


def shard_for(ksid, shards):
    """The shard of an ordered partition holding ksid (the test oracle)."""
    k = norm(ksid)
    for s in shards:
        if s in ("0", "-"):
            return s
        start, _, end = s.partition("-")
        lo, hi = norm(bytes.fromhex(start)), norm(bytes.fromhex(end))
        if k >= lo and (not end or k < hi):
            return s
    raise AssertionError("no shard of %r holds %s" % (shards, ksid.hex()))


@pytest.fixture
def router():
    r = shardrouter.Router()
    r.publish(keyspace_doc())
    return r
