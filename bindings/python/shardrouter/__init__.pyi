"""Type stubs for shardrouter (the C extension shardrouter._shardrouter)."""
import os
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, Union, final, overload

from _typeshed import ReadableBuffer, SupportsRead, WriteableBuffer, structseq
from typing_extensions import TypeAlias

__version__: Final[str]

NO_SHARD: Final[int]
NOGIL_THRESHOLD: Final[int]
DOC_MAX_SIZE: Final[int]
NONE: Final[int]

EINVAL: Final[int]
ENOMEM: Final[int]
ENOTFOUND: Final[int]
ERANGE: Final[int]
ESHARDNAME: Final[int]
EVSCHEMA: Final[int]
EREFERENCE: Final[int]
EEMPTY: Final[int]
ECOVERAGE: Final[int]
EVERSION: Final[int]
ESHRINK: Final[int]
ENEEDSLOOKUP: Final[int]
EUNSUPPORTED: Final[int]
ENOHISTORY: Final[int]
EMULTISHARD: Final[int]
EDISABLED: Final[int]
ESTATE: Final[int]
EDOC: Final[int]
EIO: Final[int]
EFENCED: Final[int]
EINVARIANT: Final[int]
ESHADOW: Final[int]
EQUARANTINED: Final[int]
EKSIDCHANGE: Final[int]
ECALLBACK: Final[int]
ERULE: Final[int]
EKEYSPACE: Final[int]

_SQLType: TypeAlias = Literal[
    "null", "int8", "int16", "int24", "int32", "int64",
    "uint8", "uint16", "uint24", "uint32", "uint64",
    "varchar", "char", "text", "varbinary", "binary", "blob",
    "float32", "float64", "decimal",
]

@final
class Value:
    """A SQL value given by its Vitess type and its text form."""
    def __new__(cls, type: _SQLType, text: str | bytes | int | None = None,
                /) -> Value: ...
    @property
    def type(self) -> str: ...
    @property
    def text(self) -> str | bytes | int | None: ...

_Scalar: TypeAlias = Union[int, str, bytes, bytearray, memoryview, None, Value]
#: A key: one column's value, or one value per column of a multicolumn
#: vindex.
_Key: TypeAlias = Union[_Scalar, tuple[_Scalar, ...]]
#: A routing document: JSON text (a str starting with "{", bytes), a dict,
#: a path (os.PathLike, or a str that does not start with "{"), or a file
#: object, read as it stands (never reopened by its name).
_Document: TypeAlias = Union[str, bytes, bytearray, memoryview,
                            Mapping[str, Any], os.PathLike[str],
                            os.PathLike[bytes], SupportsRead[str],
                            SupportsRead[bytes]]

class Error(Exception):
    """Base class of librouter's errors."""
    code: int
    name: str
    culprit: str
    message: str

class RefusedError(Error):
    """A guard refused a publish; the table in service is untouched."""
    reason: str
    diff: tuple[DiffEntry, ...]
    version_from: int
    version: int
    shadow: ShadowVerdict | None

class FencedError(RefusedError):
    """The table's content is fenced (EFENCED): refused at once."""

class InvariantError(RefusedError):
    """The table breaks an operator invariant (EINVARIANT)."""

class ShadowError(RefusedError):
    """Too many sample keys would move or become unroutable (ESHADOW)."""

class QuarantinedError(RefusedError):
    """Refused by the empty, shrink or shadow guard and kept pending."""
    guard_code: int
    guard_name: str | None

class DocumentError(Error, ValueError):
    """A routing document that does not load."""
    path: str
    line: int
    column: int
    notes: tuple[Note, ...]

class NoRouteError(Error, LookupError):
    """A lookup that cannot be answered."""
    keyspace: str | None
    table: str | None

class NotFoundError(NoRouteError, DocumentError):
    """No such keyspace, table, vindex, pending table or file (ENOTFOUND)."""

class InvalidError(Error, ValueError):
    """A bad argument or call (EINVAL, ERANGE, ESTATE, ECALLBACK)."""

class HistoryError(InvalidError):
    """No such table in the history (ENOHISTORY)."""

class InvalidDocumentError(DocumentError, InvalidError):
    """An invalid document or VSchema (EDOC, EVSCHEMA, EREFERENCE,
    ECOVERAGE, ESHARDNAME)."""

class ResourceError(Error, OSError):
    """The system failed the call (EIO)."""

class DocumentWarning(UserWarning):
    """A document field Vitess does not know, or a feature not applied."""

class SnapshotWarning(UserWarning):
    """An automatic snapshot could not be written; the publish stands."""

@final
class DiffEntry(structseq[Any], tuple[str, str, str, str, str]):
    """One difference between the table in service and another."""
    __match_args__: Final = ("kind", "op", "keyspace", "name", "detail")
    @property
    def kind(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def keyspace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def detail(self) -> str: ...

@final
class Note(structseq[Any], tuple[str, int, str | None, str, str, str, int, int]):
    """One error or warning found while loading a document."""
    __match_args__: Final = ("kind", "code", "name", "path", "culprit", "message", "line", "column")
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def path(self) -> str: ...
    @property
    def culprit(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...

@final
class Verdict(structseq[Any], tuple[bool, int, str | None, str, str, int, int, int, tuple[DiffEntry, ...], tuple[Note, ...]]):
    """What publish() did or check() would do."""
    __match_args__: Final = ("accepted", "code", "name", "reason", "culprit", "version_from", "version", "content_hash", "diff", "notes")
    @property
    def accepted(self) -> bool: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def culprit(self) -> str: ...
    @property
    def version_from(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def diff(self) -> tuple[DiffEntry, ...]: ...
    @property
    def notes(self) -> tuple[Note, ...]: ...
    @property
    def shadow(self) -> ShadowVerdict | None: ...

@final
class HistoryEntry(structseq[Any], tuple[int, int, int, bool]):
    """One accepted table kept for rollback."""
    __match_args__: Final = ("version", "content_hash", "accepted_unix_ns", "in_service")
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def accepted_unix_ns(self) -> int: ...
    @property
    def in_service(self) -> bool: ...

@final
class Event(structseq[Any], tuple[str, int, str | None, int, int, int, str, str, tuple[DiffEntry, ...]]):
    """Passed to Router(on_event=...) after publish, check, rollback."""
    __match_args__: Final = ("kind", "code", "name", "version_from", "version_to", "content_hash", "reason", "culprit", "diff")
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def version_from(self) -> int: ...
    @property
    def version_to(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def culprit(self) -> str: ...
    @property
    def diff(self) -> tuple[DiffEntry, ...]: ...
    @property
    def shadow(self) -> ShadowVerdict | None: ...

@final
class ShadowStat(structseq[Any], tuple[str, int, int, int, int, int]):
    """What a new table does to the sample keys of one keyspace."""
    __match_args__: Final = ("keyspace", "keys", "routed", "moved", "unroutable", "newly_routable")
    @property
    def keyspace(self) -> str: ...
    @property
    def keys(self) -> int: ...
    @property
    def routed(self) -> int: ...
    @property
    def moved(self) -> int: ...
    @property
    def unroutable(self) -> int: ...
    @property
    def newly_routable(self) -> int: ...

@final
class ShadowVerdict(structseq[Any], tuple[dict[str, ShadowStat], ShadowStat]):
    """The shadow evaluation of a table on the sample keys."""
    __match_args__: Final = ("keyspaces", "totals")
    @property
    def keyspaces(self) -> dict[str, ShadowStat]: ...
    @property
    def totals(self) -> ShadowStat: ...

_FenceOrigin: TypeAlias = Literal["refused", "rolled_back", "discarded", "manual"]

@final
class Fence(structseq[Any], tuple[int, int, _FenceOrigin, int, str | None, int]):
    """A content hash the router refuses at once (Router.fences)."""
    __match_args__: Final = ("content_hash", "version", "origin", "code", "name", "fenced_unix_ns")
    @property
    def content_hash(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def origin(self) -> _FenceOrigin: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def fenced_unix_ns(self) -> int: ...

@final
class Pending(structseq[Any], tuple[int, int, int, str | None, str, str, tuple[DiffEntry, ...], int]):
    """The table a quarantined publish left pending (Router.pending)."""
    __match_args__: Final = ("version", "content_hash", "code", "name", "culprit", "reason", "diff", "since_unix_ns")
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def culprit(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def diff(self) -> tuple[DiffEntry, ...]: ...
    @property
    def since_unix_ns(self) -> int: ...

@final
class SnapshotInfo(structseq[Any], tuple[int, int]):
    """What verify_snapshot() found in a sound snapshot file."""
    __match_args__: Final = ("version", "content_hash")
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...

#: A file path, as open() takes it.
_Path: TypeAlias = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]
#: A sample key: (keyspace, table, value), value as route() takes it.
_SampleKey: TypeAlias = Union[tuple[str, str, _Key], Sequence[Any]]

@final
class Route(structseq[Any], tuple[str, int, int, int, bytes, int]):
    """Everything a lookup knows (lookup())."""
    __match_args__: Final = ("shard", "shard_id", "shard_index", "version", "keyspace_id", "keyspace_id_len")
    @property
    def shard(self) -> str: ...
    @property
    def shard_id(self) -> int: ...
    @property
    def shard_index(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def keyspace_id(self) -> bytes: ...
    @property
    def keyspace_id_len(self) -> int: ...

#: What route_many takes: values, or a buffer of 64-bit integers.
_Keys: TypeAlias = Union[Iterable[_Key], ReadableBuffer]

#: The SrvVSchema routing rules route_target reports, in Vitess's order.
_TargetRule: TypeAlias = Literal["keyspace_routing_rules", "routing_rules",
                                 "shard_routing_rules"]
#: route_target's answer: (shard or None, keyspace, table, rules applied).
_Target: TypeAlias = tuple[str | None, str, str, tuple[_TargetRule, ...]]

@final
class Table:
    """A pre-resolved keyspace.table of a Router (from Router.table)."""
    @property
    def keyspace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def router(self) -> Router: ...
    def route(self, value: _Key, /) -> str | None: ...
    def lookup(self, value: _Key, /) -> Route | None: ...
    def route_target(self, value: _Key, /, *,
                     shard_routing: bool = ...) -> _Target: ...
    @overload
    def route_many(self, __values: _Keys, *, ids: Literal[False] = ...,
                   out: None = ..., nogil: bool | None = ...
                   ) -> list[str | None]: ...
    @overload
    def route_many(self, __values: _Keys, *, ids: Literal[True],
                   out: None = ..., nogil: bool | None = ...
                   ) -> array[int]: ...
    @overload
    def route_many(self, __values: _Keys, *, ids: bool = ..., out: WriteableBuffer,
                   nogil: bool | None = ...) -> WriteableBuffer: ...
    def _noop(self, value: object, /) -> None: ...
    def _bench_c(self, keys: ReadableBuffer, repeats: int, single: bool = ...,
                 chained: bool = ..., /) -> float: ...

@final
class Router:
    """A live routing table: lock-free lookups, guarded publishes."""
    def __new__(cls, history: int = 8, max_shrink: float = 0.1, *,
                on_event: Callable[[Event], object] | None = None,
                snapshot_path: _Path | None = None, fence_cap: int = 0
                ) -> Router: ...
    @classmethod
    def from_snapshot(cls, path: _Path, /, *, history: int = 8,
                      max_shrink: float = 0.1,
                      on_event: Callable[[Event], object] | None = None,
                      snapshot_path: _Path | None = None, fence_cap: int = 0
                      ) -> Router: ...
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def pending(self) -> Pending | None: ...
    def route(self, keyspace: str, table: str, value: _Key, /) -> str | None:
        ...
    def lookup(self, keyspace: str, table: str, value: _Key, /
               ) -> Route | None: ...
    def route_ksid(self, keyspace: str, ksid: ReadableBuffer, /) -> str: ...
    def route_column(
        self, keyspace: str, table: str, columns: str, value: _Key, /, *,
        resolver: Callable[[dict[str, Any]], Iterable[tuple[_Key, _Key]]]
        | None = ...) -> list[str]: ...
    def lookup_query(self, keyspace: str, table: str, columns: str,
                     value: _Key, /) -> dict[str, Any]: ...
    def route_lookup_rows(self, keyspace: str, table: str, columns: str,
                          value: _Key, rows: Iterable[tuple[_Key, _Key]],
                          /) -> list[str]: ...
    def route_prefix(self, keyspace: str, table: str, like: str | bytes,
                     /) -> list[str]: ...
    def route_target(self, keyspace: str, table: str, value: _Key, /, *,
                     shard_routing: bool = ...) -> _Target: ...
    @overload
    def route_many(self, __keyspace: str, __table: str, __values: _Keys, *,
                   ids: Literal[False] = ..., out: None = ...,
                   nogil: bool | None = ...) -> list[str | None]: ...
    @overload
    def route_many(self, __keyspace: str, __table: str, __values: _Keys, *,
                   ids: Literal[True], out: None = ...,
                   nogil: bool | None = ...) -> array[int]: ...
    @overload
    def route_many(self, __keyspace: str, __table: str, __values: _Keys, *,
                   ids: bool = ..., out: WriteableBuffer,
                   nogil: bool | None = ...) -> WriteableBuffer: ...
    def table(self, keyspace: str, table: str, /) -> Table: ...
    def publish(self, doc: _Document, /, *, version: int | None = None,
                allow_destructive: bool = False, keyspace: str | None = None,
                shards: Mapping[str, Sequence[str]] | None = None,
                strict: bool = False, quarantine: bool = False) -> Verdict: ...
    def check(self, doc: _Document, /, *, version: int | None = None,
              allow_destructive: bool = False, keyspace: str | None = None,
              shards: Mapping[str, Sequence[str]] | None = None,
              strict: bool = False) -> Verdict: ...
    def rollback(self, steps: int = 1, /, *, version: int | None = None
                 ) -> int: ...
    def history(self) -> list[HistoryEntry]: ...
    def stats(self) -> dict[str, Any]: ...
    def export(self, keyspace: str | None = None, /, *, vitess: bool = False,
               compact: bool = False) -> str | None: ...
    def shard_name(self, shard_id: int, /) -> str: ...
    def save_snapshot(self, path: _Path, /) -> None: ...
    def approve_pending(self) -> Verdict: ...
    def discard_pending(self) -> bool: ...
    def fences(self) -> list[Fence]: ...
    def fence(self, content_hash: int, /) -> None: ...
    def lift_fence(self, content_hash: int, /) -> bool: ...
    def clear_fences(self) -> None: ...
    def add_invariant(self, spec: str, /) -> None: ...
    def remove_invariant(self, spec: str, /) -> bool: ...
    def invariants(self) -> list[str]: ...
    def set_sample(self, keys: Iterable[_SampleKey], /, *,
                   max_moved: float = 1.0, max_unroutable: float = 0.0
                   ) -> None: ...
    def _noop(self, keyspace: object, table: object, value: object, /
              ) -> None: ...

def keyspace_id(vindex_type: str, value: _Key, /,
                params: Mapping[str, str] | None = None) -> bytes | None: ...
def shard_ranges(n: int, /) -> list[str]: ...
def verify_snapshot(path: _Path, /) -> SnapshotInfo: ...
def _noop(a: object, b: object, c: object, /) -> None: ...
def _noop1(x: object, /) -> None: ...
def _cg_toggle() -> bool: ...

# ---- the etcd follower (follower.c) ----------------------------------------

#: False when shardrouter was built without libcurl / libprotobuf-c /
#: protoc-c: Follower() then raises Error naming the packages.
HAVE_FOLLOWER: Final[bool]

@final
class FollowerEvent(structseq[Any], tuple[str, int, str | None, int, int, int, str, str, int]):
    """Passed to Follower(on_event=...), on the follower's event thread."""
    __match_args__: Final = ("kind", "code", "name", "revision", "version", "content_hash", "reason", "culprit", "retry_ms")
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def revision(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def content_hash(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def culprit(self) -> str: ...
    @property
    def retry_ms(self) -> int: ...

@final
class Follower:
    def __new__(cls, router: Router, endpoints: str | Iterable[str], *,
                key: str | None = None,
                source: Literal["document", "vitess"] | None = "document",
                cell: str | None = None, topo_root: str | None = None,
                tablet_type: str | None = None,
                cell_endpoints: str | None = None,
                instance: str | None = None,
                status_prefix: str | None = None,
                snapshot: _Path | None = None, lease_ttl: int = 10,
                on_event: Callable[[FollowerEvent], object] | None = None,
                destructive: bool = False, backoff_min_ms: int = 100,
                backoff_max_ms: int = 5000, request_timeout_ms: int = 5000,
                debounce_ms: int = 200,
                tls_ca_file: str | None = None,
                tls_cert_file: str | None = None,
                tls_key_file: str | None = None,
                username: str | None = None,
                password: str | None = None) -> Follower: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
    def status(self) -> dict[str, Any]: ...
    def wait(self, revision: int, timeout: float = 10.0) -> bool: ...
    def __enter__(self) -> Follower: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def status_key(self) -> str: ...
    @property
    def router(self) -> Router: ...
    @property
    def started(self) -> bool: ...
