#!/bin/sh
# Write the pkg-config and CMake files of one installation.
#
#   tools/gen_pkgfiles.sh OUTDIR VERSION PREFIX LIBDIR INCLUDEDIR
#
# `make install` runs this every time, with the directories it is
# installing into, so an installed .pc or CMake file always names the
# prefix it was installed under (never one cached from an earlier build).
# LIBDIR and INCLUDEDIR are absolute (they may lie outside PREFIX, e.g. a
# multiarch /usr/lib/x86_64-linux-gnu).  Written:
#   librouter.pc, librouter-etcd.pc   the names to use: #include <librouter/router.h>
#   router.pc, router-etcd.pc         the 0.1 names, kept for 0.2 only: they
#                                     also put include/librouter on the path,
#                                     so 0.1's #include "router.h" still builds
#   librouter-config.cmake, librouter-config-version.cmake
#                                     find_package(librouter): imported targets
#                                     librouter::router, librouter::router_static,
#                                     librouter::etcd, librouter::etcd_static
set -eu
[ $# -eq 5 ] || { echo "usage: $0 OUTDIR VERSION PREFIX LIBDIR INCLUDEDIR" >&2; exit 2; }
out=$1 version=$2 prefix=$3 libdir=$4 includedir=$5
for d in "$prefix" "$libdir" "$includedir"; do
	case $d in /*) ;; *) echo "$0: $d: not an absolute path" >&2; exit 2 ;; esac
done
major=${version%%.*}
mkdir -p "$out"

cat > "$out/librouter.pc" <<PC
prefix=$prefix
libdir=$libdir
includedir=$includedir

Name: librouter
Description: Vitess-exact embedded shard router (core and live router)
Version: $version
Requires.private: ck libxxhash nettle jansson
Libs: -L\${libdir} -lrouter
Libs.private: -lpthread
Cflags: -I\${includedir}
PC

cat > "$out/librouter-etcd.pc" <<PC
prefix=$prefix
libdir=$libdir
includedir=$includedir

Name: librouter-etcd
Description: librouter's fleet library: follow a routing document in etcd
Version: $version
Requires: librouter = $version
Requires.private: libcurl nettle jansson libprotobuf-c
Libs: -L\${libdir} -lrouter-etcd
Libs.private: -lpthread
Cflags: -I\${includedir}
PC

for old in router router-etcd; do
	cat > "$out/$old.pc" <<PC
prefix=$prefix
includedir=$includedir

Name: $old
Description: deprecated 0.1 name of lib$old (removed in 0.3): use pkg-config lib$old and #include <librouter/...>
Version: $version
Requires: lib$old = $version
Cflags: -I\${includedir}/librouter
PC
done

cat > "$out/librouter-config.cmake" <<CM
# find_package(librouter) for librouter $version, written by make install
# (tools/gen_pkgfiles.sh) for the prefix $prefix.
#
#   find_package(librouter 0.2 REQUIRED)
#   target_link_libraries(app PRIVATE librouter::router)   # or router_static,
#                                                           # etcd, etcd_static
# Headers: #include <librouter/router.h> (router_doc.h, router_etcd.h).
if(TARGET librouter::router)
  return()
endif()
set(librouter_VERSION "$version")
set(librouter_INCLUDE_DIR "$includedir")
set(librouter_LIBRARY_DIR "$libdir")

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# The static archives need the system libraries librouter itself links.
pkg_check_modules(_librouter_deps REQUIRED IMPORTED_TARGET ck libxxhash nettle jansson)

add_library(librouter::router SHARED IMPORTED)
set_target_properties(librouter::router PROPERTIES
  IMPORTED_LOCATION "$libdir/librouter.so.$major"
  IMPORTED_SONAME "librouter.so.$major"
  INTERFACE_INCLUDE_DIRECTORIES "$includedir")

add_library(librouter::router_static STATIC IMPORTED)
set_target_properties(librouter::router_static PROPERTIES
  IMPORTED_LOCATION "$libdir/librouter.a"
  INTERFACE_INCLUDE_DIRECTORIES "$includedir"
  INTERFACE_LINK_LIBRARIES "PkgConfig::_librouter_deps;Threads::Threads")

add_library(librouter::etcd SHARED IMPORTED)
set_target_properties(librouter::etcd PROPERTIES
  IMPORTED_LOCATION "$libdir/librouter-etcd.so.$major"
  IMPORTED_SONAME "librouter-etcd.so.$major"
  INTERFACE_LINK_LIBRARIES "librouter::router")

if(NOT TARGET librouter::etcd_static)
  pkg_check_modules(_librouter_etcd_deps QUIET IMPORTED_TARGET libcurl nettle jansson libprotobuf-c)
  if(_librouter_etcd_deps_FOUND)
    add_library(librouter::etcd_static STATIC IMPORTED)
    set_target_properties(librouter::etcd_static PROPERTIES
      IMPORTED_LOCATION "$libdir/librouter-etcd.a"
      INTERFACE_LINK_LIBRARIES "librouter::router_static;PkgConfig::_librouter_etcd_deps;Threads::Threads")
  endif()
endif()
set(librouter_FOUND TRUE)
CM

cat > "$out/librouter-config-version.cmake" <<CM
# librouter $version.  Compatible: the same major, and before 1.0 the same
# minor too (0.x minors may break; see CHANGELOG.md), no older than asked.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major" AND
   NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  if(NOT "$major" STREQUAL "0" OR
     PACKAGE_FIND_VERSION_MINOR STREQUAL "$(echo "$version" | cut -d. -f2)")
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
CM
