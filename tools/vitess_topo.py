#!/usr/bin/python3
"""Write a Vitess cluster's topology into etcd, as vtctld would.

A stand-in for the Vitess control plane in `make demo-vitess` and in
tests: it writes the keys a real cluster has (TOPO.md section 1), encoded
by Debian's python3-protobuf with modules protoc generates from Vitess's
REAL vschema.proto and topodata.proto (tests/data/vitess_proto/), never by
librouter's own code.  It talks to etcd's v3 JSON gateway (etcd 3.4), so it
needs no etcd client library.

    vitess_topo.py [--endpoints URL] [--global-root R] [--cell C]
                   [--cell-root R] COMMAND ...

    init KS=FILE[@SHARDS] ...   CellInfo of the cell, each keyspace's global
                                Keyspace and VSchema (FILE: a keyspace
                                VSchema in JSON), its SrvKeyspace (SHARDS,
                                comma-separated, for every tablet type; "0"
                                when left out) and the cell's SrvVSchema
    srvkeyspace KS TYPE=SHARDS ...
                                rewrite the cell's SrvKeyspace of KS: the
                                partition of each TYPE (primary, replica,
                                rdonly) given, the others kept
    apply-vschema KS FILE [--skip-rebuild]
                                write global keyspaces/KS/VSchema (FILE
                                "empty": the empty value a failed MoveTables
                                left in January 2026), then rebuild unless
                                --skip-rebuild
    rebuild                     RebuildVSchemaGraph: the cell's SrvVSchema
                                from every global keyspace's VSchema
    delete KEY                  delete one key (relative to no root)
    served KS.TABLE             what the cell's SrvVSchema serves for it, as
                                vtgate applies it: "sharded", "unsharded"
                                or "not found" (exit 1)

Defaults: --endpoints $ETCDCTL_ENDPOINTS or http://127.0.0.1:2379,
--global-root /vitess/global, --cell zone1, --cell-root /vitess/CELL.
Prints each key it writes with the revision etcd gave it.  Exits 1 on an
etcd error, 2 on usage errors.
"""
import argparse
import base64
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_topo_fixtures import load_modules  # noqa: E402

TYPES = {"primary": 1, "replica": 2, "rdonly": 3}


class Etcd:
    def __init__(self, endpoint):
        self.endpoint = endpoint.split(",")[0].rstrip("/")

    def call(self, path, body):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)
        except (urllib.error.URLError, OSError) as e:
            sys.exit("vitess_topo: etcd %s%s: %s" % (self.endpoint, path, e))

    @staticmethod
    def b64(b):
        return base64.b64encode(b).decode()

    def put(self, key, value):
        r = self.call("/v3/kv/put", {"key": self.b64(key.encode()), "value": self.b64(value)})
        print("put %s (%d bytes) at revision %s" % (key, len(value), r["header"]["revision"]))

    def delete(self, key):
        r = self.call("/v3/kv/deleterange", {"key": self.b64(key.encode())})
        print("deleted %s (%s keys) at revision %s" % (key, r.get("deleted", "0"), r["header"]["revision"]))

    def get(self, key):
        r = self.call("/v3/kv/range", {"key": self.b64(key.encode())})
        kvs = r.get("kvs", [])
        return base64.b64decode(kvs[0].get("value", "")) if kvs else None

    def prefix(self, prefix):
        p = prefix.encode()
        end = p[:-1] + bytes([p[-1] + 1])
        r = self.call("/v3/kv/range", {"key": self.b64(p), "range_end": self.b64(end)})
        return [(base64.b64decode(kv["key"]).decode(), base64.b64decode(kv.get("value", "")))
                for kv in r.get("kvs", [])]


class Topo:
    def __init__(self, args, vs, td):
        self.etcd = Etcd(args.endpoints)
        self.groot = args.global_root.rstrip("/")
        self.cell = args.cell
        self.croot = (args.cell_root or "/vitess/" + args.cell).rstrip("/")
        self.vs, self.td = vs, td

    def srvks_key(self, ks):
        return "%s/keyspaces/%s/SrvKeyspace" % (self.croot, ks)

    def partition(self, m, served, shards):
        for p in list(m.partitions):
            if p.served_type == served:
                m.partitions.remove(p)
        p = m.partitions.add(served_type=served)
        for name in shards:
            ref = p.shard_references.add(name=name)
            if name != "0":
                s, e = name.split("-")
                ref.key_range.start = bytes.fromhex(s)
                ref.key_range.end = bytes.fromhex(e)

    def write_srvks(self, ks, parts):
        m = self.td.SrvKeyspace()
        old = self.etcd.get(self.srvks_key(ks))
        if old:
            m.ParseFromString(old)
        for served, shards in parts:
            self.partition(m, served, shards)
        m.partitions.sort(key=lambda p: p.served_type)
        self.etcd.put(self.srvks_key(ks), m.SerializeToString(deterministic=True))

    def rebuild(self):
        """The cell's SrvVSchema from every keyspace that has a global
        Keyspace record; a keyspace without a VSchema key contributes an
        empty one, and so does one whose VSchema value is empty."""
        srv = self.vs.SrvVSchema()
        base = self.groot + "/keyspaces/"
        for key, _ in self.etcd.prefix(base):
            rest = key[len(base):].split("/")
            if len(rest) != 2 or rest[1] != "Keyspace":
                continue
            raw = self.etcd.get("%s%s/VSchema" % (base, rest[0])) or b""
            srv.keyspaces[rest[0]].ParseFromString(raw)
        rules = self.etcd.get(self.groot + "/RoutingRules")
        if rules:
            srv.routing_rules.ParseFromString(rules)
        self.etcd.put(self.croot + "/SrvVSchema", srv.SerializeToString(deterministic=True))


def parse_shards(spec):
    return [s for s in spec.split(",") if s] or ["0"]


def keyspace_json(vs, path):
    from google.protobuf import json_format
    if path == "empty":
        return b""
    with open(path) as f:
        return json_format.Parse(f.read(), vs.Keyspace()).SerializeToString(deterministic=True)


def main():
    ap = argparse.ArgumentParser(description="write a Vitess topology into etcd")
    ap.add_argument("--endpoints", default=os.environ.get("ETCDCTL_ENDPOINTS", "http://127.0.0.1:2379"))
    ap.add_argument("--global-root", default="/vitess/global")
    ap.add_argument("--cell", default="zone1")
    ap.add_argument("--cell-root")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init").add_argument("keyspaces", nargs="+", metavar="KS=FILE[@SHARDS]")
    p = sub.add_parser("srvkeyspace")
    p.add_argument("keyspace")
    p.add_argument("parts", nargs="+", metavar="TYPE=SHARDS")
    p = sub.add_parser("apply-vschema")
    p.add_argument("keyspace")
    p.add_argument("file")
    p.add_argument("--skip-rebuild", action="store_true")
    sub.add_parser("rebuild")
    sub.add_parser("delete").add_argument("key")
    sub.add_parser("served").add_argument("table", metavar="KS.TABLE")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        vs, td = load_modules(tmp)
        t = Topo(args, vs, td)
        if args.cmd == "init":
            ci = td.CellInfo(server_address=t.etcd.endpoint.split("://")[-1], root=t.croot)
            t.etcd.put("%s/cells/%s/CellInfo" % (t.groot, t.cell), ci.SerializeToString())
            for spec in args.keyspaces:
                ks, _, rest = spec.partition("=")
                path, _, shards = rest.partition("@")
                if not ks or not path:
                    ap.error("init: expected KS=FILE[@SHARDS], got %r" % spec)
                t.etcd.put("%s/keyspaces/%s/Keyspace" % (t.groot, ks), td.Keyspace().SerializeToString())
                t.etcd.put("%s/keyspaces/%s/VSchema" % (t.groot, ks), keyspace_json(vs, path))
                t.write_srvks(ks, [(v, parse_shards(shards)) for v in TYPES.values()])
            t.rebuild()
        elif args.cmd == "srvkeyspace":
            parts = []
            for spec in args.parts:
                name, _, shards = spec.partition("=")
                if name not in TYPES:
                    ap.error("srvkeyspace: tablet type %r is not primary, replica or rdonly" % name)
                parts.append((TYPES[name], parse_shards(shards)))
            t.write_srvks(args.keyspace, parts)
        elif args.cmd == "apply-vschema":
            t.etcd.put("%s/keyspaces/%s/VSchema" % (t.groot, args.keyspace), keyspace_json(vs, args.file))
            if not args.skip_rebuild:
                t.rebuild()
        elif args.cmd == "rebuild":
            t.rebuild()
        elif args.cmd == "delete":
            t.etcd.delete(args.key)
        elif args.cmd == "served":
            ks, _, table = args.table.partition(".")
            srv = vs.SrvVSchema()
            srv.ParseFromString(t.etcd.get(t.croot + "/SrvVSchema") or b"")
            k = srv.keyspaces.get(ks) if ks in srv.keyspaces else None
            if k is None or table not in k.tables:
                print("not found")
                sys.exit(1)
            print("sharded" if k.sharded else "unsharded")


if __name__ == "__main__":
    main()
