"""shardrouter: librouter for Python.

An embedded shard router computing, bit for bit, the shard Vitess would
pick for a row, with lock-free lookups from any thread and publishes that
are refused when they would empty a keyspace, leave a gap in the
keyspace-ID space or silently drop routes; beyond those guards,
last-known-good snapshots, quarantine, fencing of known-bad tables,
shadow evaluation on sample keys and operator invariants.  Everything here is the C
extension shardrouter._shardrouter; this file only re-exports it.
"""
from ._shardrouter import (  # noqa: F401
    DOC_MAX_SIZE, NO_SHARD, NOGIL_THRESHOLD, NONE,
    EINVAL, ENOMEM, ENOTFOUND, ERANGE, ESHARDNAME, EVSCHEMA, EREFERENCE,
    EEMPTY, ECOVERAGE, EVERSION, ESHRINK, ENEEDSLOOKUP, EUNSUPPORTED,
    ENOHISTORY, EMULTISHARD, EDISABLED, ESTATE, EDOC, EIO,
    EFENCED, EINVARIANT, ESHADOW, EQUARANTINED, EKSIDCHANGE, ECALLBACK,
    ERULE, EKEYSPACE,
    DiffEntry, DocumentError, DocumentWarning, Error, Event, HistoryEntry,
    Note, NoRouteError, RefusedError, Route, Router, Table, Value, Verdict,
    FencedError, InvariantError, ShadowError, QuarantinedError,
    NotFoundError, InvalidError, HistoryError, InvalidDocumentError,
    ResourceError, SnapshotWarning, Fence, Pending, ShadowStat, ShadowVerdict, SnapshotInfo,
    __version__, _cg_toggle, _noop, _noop1, keyspace_id, shard_ranges,
    verify_snapshot,
)
from ._shardrouter import Follower, FollowerEvent, HAVE_FOLLOWER  # noqa: F401

__all__ = [
    "Router", "Table", "Value", "keyspace_id", "shard_ranges",
    "verify_snapshot",
    "Error", "RefusedError", "DocumentError", "NoRouteError",
    "FencedError", "InvariantError", "ShadowError", "QuarantinedError",
    "NotFoundError", "InvalidError", "HistoryError", "InvalidDocumentError",
    "ResourceError", "DocumentWarning", "SnapshotWarning",
    "Verdict", "DiffEntry", "Note", "HistoryEntry", "Event", "Route",
    "Fence", "Pending", "ShadowStat", "ShadowVerdict", "SnapshotInfo",
    "NO_SHARD", "NOGIL_THRESHOLD", "DOC_MAX_SIZE", "NONE",
    "EINVAL", "ENOMEM", "ENOTFOUND", "ERANGE", "ESHARDNAME", "EVSCHEMA",
    "EREFERENCE", "EEMPTY", "ECOVERAGE", "EVERSION", "ESHRINK",
    "ENEEDSLOOKUP", "EUNSUPPORTED", "ENOHISTORY", "EMULTISHARD",
    "EDISABLED", "ESTATE", "EDOC", "EIO",
    "EFENCED", "EINVARIANT", "ESHADOW", "EQUARANTINED", "EKSIDCHANGE", "ECALLBACK",
    "ERULE", "EKEYSPACE",
    "Follower", "FollowerEvent", "HAVE_FOLLOWER",
]
