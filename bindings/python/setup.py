"""Build shardrouter: the extension and librouter's C core, from source.

    pip install --no-build-isolation ./bindings/python   # from a checkout
    python3 -m build --sdist --no-isolation bindings/python
    /usr/bin/python3 setup.py build_ext --inplace        # make test-python

No `make lib` first and no environment variables: the extension compiles
librouter's core and live layers (librouter/core/*.c, librouter/live/*.c,
globbed, so a new file is picked up) with the Makefile's library flags
(-std=c11 -D_GNU_SOURCE -DROUTER_BUILDING -fvisibility=hidden), archives
them in the build directory and links that archive into the module with
-Wl,--exclude-libs,ALL, so PyInit__shardrouter alone is exported and no
librouter.so is needed at run time.  Concurrency Kit, xxHash, Nettle and
Jansson come from the system, found by pkg-config at build time (not for
an sdist).

The etcd follower (librouter/fleet, shardrouter.Follower) is optional:
when pkg-config finds libcurl and libprotobuf-c and protoc-c is installed
(Debian: libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler), its
sources are compiled into the same archive (one copy of the core: a
second one in another module would have epoch globals of its own), the C
of librouter/fleet/*.proto is generated with protoc-c in the build
directory (never shipped: it must match the installed libprotobuf-c), and
the extension is built with SR_HAVE_FOLLOWER.  Otherwise it builds
without it, says so, and Follower() raises Error naming the packages.

Where the C core comes from:
  a checkout  (this file is <root>/bindings/python/setup.py and <root> has
              librouter/core): compiled from <root> itself.  Every run of
              this file also mirrors what the package carries into csrc/
              (gitignored), so an sdist made here is complete and never
              stale;
  an sdist    csrc/, that copy: include/librouter/*.h,
              librouter/{core,live}/*.[ch], librouter/fleet/*.{c,h,proto},
              LICENSE and NOTICE, laid out as
              in the repository.
The version is ROUTER_VERSION_* of include/librouter/router.h, the same
lines the Makefile reads.
"""
import filecmp
import glob
import os
import re
import shlex
import shutil
import subprocess
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.normpath(os.path.join(HERE, "..", ".."))
CSRC = os.path.join(HERE, "csrc")

# The layers of librouter/ the binding uses (the Makefile's CORE_SRCS and
# LIVE_SRCS, i.e. librouter.a), and the optional one (librouter-etcd:
# compiled in only when its libraries are found, see follower_deps).
LAYERS = ("core", "live")
FLEET = "fleet"

# Public headers of the layers it does not carry (none).
NOT_CARRIED = ()

# The follower's pkg-config modules -> Debian packages (+ protoc-c).
FLEET_MODULES = (("libcurl", "libcurl4-openssl-dev"),
                 ("libprotobuf-c", "libprotobuf-c-dev"))

# pkg-config module -> the Debian package that installs it.
PKG_MODULES = (("ck", "libck-dev"), ("libxxhash", "libxxhash-dev"),
               ("nettle", "nettle-dev"), ("jansson", "libjansson-dev"))


def is_checkout():
    try:
        return (os.path.isfile(os.path.join(CHECKOUT, "include", "librouter",
                                            "router.h"))
                and os.path.isdir(os.path.join(CHECKOUT, "librouter", "core"))
                and os.path.samefile(os.path.join(CHECKOUT, "bindings",
                                                  "python"), HERE))
    except OSError:
        return False


def carried(root):
    """What the package carries from librouter, as paths relative to root:
    the public headers, the sources and headers of each layer it compiles,
    the license."""
    pats = ["include/librouter/*.h"]
    pats += ["librouter/%s/*.%s" % (layer, ext)
             for layer in LAYERS for ext in ("c", "h")]
    pats += ["librouter/%s/*.%s" % (FLEET, ext) for ext in ("c", "h", "proto")]
    files = [os.path.relpath(p, root)
             for pat in pats for p in glob.glob(os.path.join(root, pat))]
    files = [f for f in files if f not in NOT_CARRIED]
    return sorted(files) + ["LICENSE", "NOTICE"]


def mirror_into_csrc():
    """Make csrc/ hold exactly carried(CHECKOUT): copy what differs, delete
    what the checkout no longer has.  Unchanged files keep their times."""
    want = carried(CHECKOUT)
    for rel in want:
        src, dst = os.path.join(CHECKOUT, rel), os.path.join(CSRC, rel)
        if not (os.path.isfile(dst) and filecmp.cmp(src, dst, shallow=False)):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
    keep = set(want)
    for dirpath, dirnames, filenames in os.walk(CSRC, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.relpath(path, CSRC) not in keep:
                os.remove(path)
        if dirpath != CSRC and not os.listdir(dirpath):
            os.rmdir(dirpath)


if is_checkout():
    ROOT = CHECKOUT
    mirror_into_csrc()
elif os.path.isfile(os.path.join(CSRC, "include", "librouter", "router.h")):
    ROOT = CSRC
else:
    raise SystemExit(
        "shardrouter: librouter's C sources not found: build from a librouter "
        "checkout (bindings/python) or from an sdist made there (csrc/)")

INCLUDE = os.path.join(ROOT, "include", "librouter")
FLEET_PREFIX = "librouter/%s/" % FLEET
CORE_SOURCES = [os.path.join(ROOT, p) for p in carried(ROOT)
                if p.endswith(".c") and not p.startswith(FLEET_PREFIX)]
CORE_HEADERS = [os.path.join(ROOT, p) for p in carried(ROOT)
                if p.endswith(".h")]
FLEET_SOURCES = [os.path.join(ROOT, p) for p in carried(ROOT)
                 if p.endswith(".c") and p.startswith(FLEET_PREFIX)]
FLEET_PROTOS = [os.path.join(ROOT, p) for p in carried(ROOT)
                if p.endswith(".proto")]


def lib_version():
    with open(os.path.join(INCLUDE, "router.h"), encoding="utf-8") as f:
        text = f.read()
    return ".".join(
        re.search(r"#define ROUTER_VERSION_%s (\d+)" % k, text).group(1)
        for k in ("MAJOR", "MINOR", "PATCH"))


def pkg_config():
    """The flags of the system libraries, or an error naming the Debian
    packages to install."""
    if shutil.which("pkg-config") is None:
        raise SystemExit("shardrouter: pkg-config not found (it locates "
                         "libck, libxxhash, nettle and jansson): "
                         "apt-get install pkg-config")
    missing = [deb for mod, deb in PKG_MODULES
               if subprocess.run(["pkg-config", "--exists", mod]).returncode]
    if missing:
        raise SystemExit(
            "shardrouter: pkg-config finds no %s; install the development "
            "package%s: apt-get install %s" % (
                ", ".join(m for m, d in PKG_MODULES if d in missing),
                "s" if len(missing) > 1 else "", " ".join(missing)))
    mods = [m for m, _ in PKG_MODULES]

    def query(flag):
        return shlex.split(subprocess.check_output(
            ["pkg-config", flag] + mods, text=True))

    return {
        "include_dirs": [f[2:] for f in query("--cflags-only-I")],
        "cflags": query("--cflags-only-other"),
        "library_dirs": [f[2:] for f in query("--libs-only-L")],
        "libraries": [f[2:] for f in query("--libs-only-l")],
        "ldflags": query("--libs-only-other"),
    }


def follower_deps():
    """The follower's flags (as pkg_config's), or None with a message
    naming what is missing: the extension is then built without it."""
    missing = [deb for mod, deb in FLEET_MODULES
               if subprocess.run(["pkg-config", "--exists", mod]).returncode]
    if shutil.which("protoc-c") is None:
        missing.append("protobuf-c-compiler")
    if missing:
        print("shardrouter: building WITHOUT the etcd follower "
              "(shardrouter.Follower): install %s and reinstall to have it"
              % " ".join(missing))
        return None
    mods = [m for m, _ in FLEET_MODULES]

    def query(flag):
        return shlex.split(subprocess.check_output(
            ["pkg-config", flag] + mods, text=True))

    return {
        "include_dirs": [f[2:] for f in query("--cflags-only-I")],
        "cflags": query("--cflags-only-other"),
        "library_dirs": [f[2:] for f in query("--libs-only-L")],
        "libraries": [f[2:] for f in query("--libs-only-l")],
        "ldflags": query("--libs-only-other"),
    }


def generate_protos(outdir):
    """protoc-c's C for librouter/fleet/*.proto, in outdir (as the
    Makefile's $(GEN)); returns the .c files."""
    os.makedirs(outdir, exist_ok=True)
    out = []
    for proto in FLEET_PROTOS:
        base = os.path.splitext(os.path.basename(proto))[0]
        c = os.path.join(outdir, base + ".pb-c.c")
        h = os.path.join(outdir, base + ".pb-c.h")
        if not (os.path.exists(c) and os.path.exists(h)
                and os.path.getmtime(c) >= os.path.getmtime(proto)):
            subprocess.check_call(["protoc-c", "--c_out=" + outdir,
                                   "-I" + os.path.dirname(proto), proto])
        out.append(c)
    return out


def check_toolchain():
    if not os.path.isfile(os.path.join(sysconfig.get_paths()["include"],
                                       "Python.h")):
        raise SystemExit("shardrouter: Python.h not found: apt-get install "
                         "python3-dev")


class BuildExt(build_ext):
    """Compile the C core into a static archive of the build directory,
    then the extension linking it (rebuilt when any of them changed)."""

    def build_extension(self, ext):
        target = self.get_ext_fullpath(ext.name)
        inputs = ext.sources + ext.depends
        if not self.force and os.path.exists(target) and all(
                os.path.getmtime(p) <= os.path.getmtime(target)
                for p in inputs):
            return super().build_extension(ext)  # says it is up to date
        check_toolchain()
        deps = pkg_config()
        fleet = follower_deps()
        sources, gen = list(CORE_SOURCES), []
        if fleet is not None:
            gendir = os.path.join(self.build_temp, "gen")
            gen = generate_protos(gendir)
            sources += FLEET_SOURCES
            for k in deps:
                deps[k] = deps[k] + [f for f in fleet[k] if f not in deps[k]]
            deps["include_dirs"].append(gendir)
            ext.define_macros = [("SR_HAVE_FOLLOWER", "1")]
        else:
            ext.define_macros = []
        objects = self.compiler.compile(
            sources, output_dir=self.build_temp,
            macros=[("_GNU_SOURCE", None), ("ROUTER_BUILDING", None)],
            include_dirs=[os.path.join(ROOT, "include"), INCLUDE,
                          os.path.join(ROOT, "librouter")]
            + deps["include_dirs"],
            extra_postargs=["-std=c11", "-fvisibility=hidden"]
            + deps["cflags"],
            depends=CORE_HEADERS)
        # protoc-c's output: the library's flags without its warnings.
        objects += self.compiler.compile(
            gen, output_dir=self.build_temp,
            include_dirs=[os.path.dirname(g) for g in gen[:1]]
            + deps["include_dirs"],
            extra_postargs=["-std=c11", "-fvisibility=hidden"])
        # A fresh archive, as the Makefile's rm -f before ar: `ar -cr`
        # would keep the member of a source since removed or renamed.
        archive = self.compiler.library_filename(
            "router", output_dir=self.build_temp)
        if os.path.exists(archive):
            os.remove(archive)
        self.compiler.create_static_lib(objects, "router",
                                        output_dir=self.build_temp)
        ext.extra_objects = [archive]
        ext.libraries = deps["libraries"] + ["pthread"]
        ext.library_dirs = deps["library_dirs"]
        ext.extra_link_args = ["-Wl,--exclude-libs,ALL"] + deps["ldflags"]
        super().build_extension(ext)


ext = Extension(
    "shardrouter._shardrouter",
    # One job per file (src/binding.h has the overview): errors, values
    # and arguments, routing and route_many, the Table class, events and
    # verdicts, documents, publishing, the Router class, beyond the
    # guards, the module, the etcd follower.
    sources=[os.path.join("src", f) for f in (
        "errors.c", "values.c", "route.c", "table_class.c", "events.c",
        "documents.c", "publish.c", "router_class.c", "beyond.c",
        "lookup.c", "halves.c", "module.c", "follower.c")],
    include_dirs=[INCLUDE, os.path.join(HERE, "src")],
    # -fvisibility=hidden: the files share sr_* names, which stay inside
    # the module (PyInit__shardrouter alone is exported).
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra",
                        "-fvisibility=hidden",
                        "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
    # Rebuild when the C core or any header changes.  (Linking: BuildExt.)
    depends=CORE_SOURCES + CORE_HEADERS + FLEET_SOURCES + FLEET_PROTOS
    + [os.path.join(HERE, "src", "binding.h")],
)

# The metadata and what goes where are pyproject.toml's; only the version
# (router.h's) and the extension are given here.
setup(
    version=lib_version(),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
)
