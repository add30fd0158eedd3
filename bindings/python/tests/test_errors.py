"""Exceptions follow the status code alone (docs/errors.md): one class per
code whatever the call, the same message text as the Ruby binding, and the
language's own OS errors for paths the library cannot open."""
import os

import pytest

import shardrouter as sr
from conftest import keyspace_doc


def raised(f):
    with pytest.raises(Exception) as ei:
        f()
    return ei.value


def test_not_found_is_the_same_class_from_routing_and_from_loading():
    r = sr.Router()
    r.publish(keyspace_doc())
    lookup = raised(lambda: r.route("user", "nope", 1))
    load = raised(lambda: sr.Router().publish(
        keyspace_doc(), shards={"nope": ["-80", "80-"]}))
    snapshot = raised(lambda: sr.Router().save_snapshot("/tmp/x.lkg"))
    for e in (lookup, load, snapshot):
        assert type(e) is sr.NotFoundError, e
        assert e.code == sr.ENOTFOUND
        assert isinstance(e, (sr.NoRouteError, sr.DocumentError,
                              LookupError, ValueError))


def test_bad_documents_are_invalid_documents_and_value_errors():
    from_doc = raised(lambda: sr.Router().publish("{"))
    from_vindex = raised(lambda: sr.keyspace_id("nope", 1))
    assert type(from_doc) is sr.InvalidDocumentError
    assert type(from_vindex) is sr.InvalidDocumentError
    assert from_vindex.code == sr.EREFERENCE
    assert isinstance(from_vindex, (sr.DocumentError, sr.InvalidError))


def test_history_errors_are_invalid_errors():
    r = sr.Router()
    r.publish(keyspace_doc())
    e = raised(lambda: r.rollback(3))
    assert type(e) is sr.HistoryError and e.code == sr.ENOHISTORY
    assert isinstance(e, (sr.InvalidError, ValueError))


def test_refusals_keep_their_classes():
    r = sr.Router()
    r.publish(keyspace_doc())
    e = raised(lambda: r.publish({"keyspaces": {}}))
    assert type(e) is sr.RefusedError and e.code == sr.EEMPTY


def test_message_is_culprit_message_and_code_name():
    r = sr.Router()
    r.publish(keyspace_doc())
    e = raised(lambda: r.route("user", "nope", 1))
    assert e.culprit
    assert str(e) == "%s: %s (ROUTER_ENOTFOUND)" % (e.culprit, e.message)
    e = raised(lambda: sr.Router().publish({"keyspaces": {}}))
    assert str(e).endswith(" (ROUTER_EEMPTY)")
    assert str(e).startswith(e.culprit + ": " if e.culprit else e.message)


def test_paths_the_library_cannot_open_raise_the_os_error(tmp_path):
    missing = tmp_path / "missing.json"
    e = raised(lambda: sr.Router().publish(missing))
    assert type(e) is FileNotFoundError
    assert e.filename == missing and e.code == sr.EIO
    assert e.culprit == str(missing)
    e = raised(lambda: sr.Router().publish(str(tmp_path)))
    assert type(e) is IsADirectoryError and e.filename == str(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    e = raised(lambda: sr.Router().check(fifo))  # refused, never waited on
    assert isinstance(e, OSError) and e.code == sr.EIO


def test_path_documents_name_map_files_beside_them(tmp_path):
    (tmp_path / "map.json").write_text('{"1": 2}')
    doc = keyspace_doc(vindex="numeric_static_map",
                       params={"json_path": "map.json"})
    path = tmp_path / "doc.json"
    import json
    path.write_text(json.dumps(doc))
    r = sr.Router()
    r.publish(path)
    assert r.route("user", "users", 1) == "-80"


def test_every_sql_type_name_of_the_library():
    for name in ("null", "int8", "int16", "int24", "int32", "int64",
                 "uint8", "uint16", "uint24", "uint32", "uint64", "varchar",
                 "char", "text", "varbinary", "binary", "blob", "float32",
                 "float64", "decimal"):
        sr.Value(name, None if name == "null" else "1")
    for bad in ("INT64", "int", "int64 ", ""):
        with pytest.raises(ValueError):
            sr.Value(bad, "1")
