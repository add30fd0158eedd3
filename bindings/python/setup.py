"""Build the shardrouter extension against librouter's static library.

    LIBROUTER_BUILD=build /usr/bin/python3 setup.py build_ext --inplace

LIBROUTER_BUILD names the directory holding librouter.a (relative to the
librouter tree or absolute; default "build", what `make lib` produces).
LIBROUTER_ROOT names the librouter tree whose include/ and build directory
are used (default: this repository, two levels up).
The library is compiled with -fPIC and linked in statically, with its
dependencies (Concurrency Kit, xxHash, Nettle, Jansson), so the module
needs no librouter.so at run time.  Use Debian's /usr/bin/python3 (see the
Makefile's test-python target for why).
"""
import os
import re

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get(
    "LIBROUTER_ROOT", os.path.join(HERE, "..", "..")))
BUILD = os.environ.get("LIBROUTER_BUILD", "build")
LIBDIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
STATIC = os.path.join(LIBDIR, "librouter.a")
INCLUDE = os.path.join(ROOT, "include", "librouter")


def lib_version():
    text = open(os.path.join(INCLUDE, "router.h"), encoding="utf-8").read()
    parts = [re.search(r"#define ROUTER_VERSION_%s (\d+)" % k, text).group(1)
             for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


if not os.path.exists(STATIC):
    raise SystemExit("%s not found: run `make lib` (or `make BUILD=%s lib`) "
                     "first" % (STATIC, BUILD))

ext = Extension(
    "shardrouter._shardrouter",
    # One job per file (src/binding.h has the overview): errors, values
    # and arguments, routing and route_many, the Table class, events and
    # verdicts, documents, publishing, the Router class, beyond the
    # guards, the module.
    sources=[os.path.join("src", f) for f in (
        "errors.c", "values.c", "route.c", "table_class.c", "events.c",
        "documents.c", "publish.c", "router_class.c", "beyond.c",
        "module.c")],
    include_dirs=[INCLUDE, os.path.join(HERE, "src")],
    extra_objects=[STATIC],
    libraries=["ck", "xxhash", "nettle", "jansson", "pthread"],
    # -fvisibility=hidden: the files share sr_* names, which stay inside
    # the module (PyInit__shardrouter alone is exported).
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra",
                        "-fvisibility=hidden",
                        "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
    # Export PyInit__shardrouter only: librouter's router_* symbols stay
    # private to the module, so another extension linking another
    # librouter cannot interpose on them.
    extra_link_args=["-Wl,--exclude-libs,ALL"],
    # Rebuild when the library or its headers change.
    depends=[STATIC, os.path.join(INCLUDE, "router.h"),
             os.path.join(INCLUDE, "router_doc.h"),
             os.path.join(HERE, "src", "binding.h")],
)

setup(
    name="shardrouter",
    version=lib_version(),
    description="librouter for Python: Vitess-exact shard routing with "
                "lock-free lookups and guarded publishes",
    packages=["shardrouter"],
    package_data={"shardrouter": ["py.typed", "*.pyi"]},
    ext_modules=[ext],
    license="Apache-2.0",
    python_requires=">=3.11",
    zip_safe=False,
)
