# librouter — plain Makefile.  `make help` lists the targets.
#
# Python is built and tested with Debian's /usr/bin/python3 (python3-dev,
# python3-pytest), never with the python3 first on PATH: on these machines
# that is a pyenv build without pytest that shares the extension suffix.

CC ?= cc
# Debian's interpreters (see above); override with PYTHON=... RUBY=...
PYTHON ?= /usr/bin/python3
RUBY ?= /usr/bin/ruby

VERSION_MAJOR := $(shell sed -n 's/^\#define ROUTER_VERSION_MAJOR \([0-9]*\).*/\1/p' include/librouter/router.h)
VERSION_MINOR := $(shell sed -n 's/^\#define ROUTER_VERSION_MINOR \([0-9]*\).*/\1/p' include/librouter/router.h)
VERSION_PATCH := $(shell sed -n 's/^\#define ROUTER_VERSION_PATCH \([0-9]*\).*/\1/p' include/librouter/router.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

BUILD ?= build
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/librouter

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wwrite-strings -Wformat=2 \
	-Wundef -Wvla -Wcast-qual -Wnull-dereference -Wimplicit-fallthrough
ifeq ($(CI),true)
WERROR := -Werror
endif
OPT ?= -O2 -g
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(WERROR) -Iinclude -Iinclude/librouter -Ilibrouter $(EXTRA_CFLAGS)
LIB_CFLAGS := $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DROUTER_BUILDING
LDFLAGS_ALL := $(EXTRA_LDFLAGS)

# The three layers (README "Layout"), each a folder of librouter/:
#   core   values, vindexes, key ranges, tables, documents (no threads, no
#          I/O but reading a document)           xxhash, nettle, jansson
#   live   epoch, publish + guards, history, handles, snapshots, beyond
#          the guards                              libck, pthread
#   fleet  the etcd client and follower, Vitess    libcurl, protobuf-c (+ jansson,
#          topo                                    nettle: base64)
# core + live are librouter (-lrouter); fleet is librouter-etcd
# (-lrouter-etcd -lrouter), so a program that never talks to etcd links no
# libcurl.
CORE_SRCS := $(wildcard librouter/core/*.c)
LIVE_SRCS := $(wildcard librouter/live/*.c)
FLEET_SRCS := $(wildcard librouter/fleet/*.c)
CORE_OBJS := $(patsubst librouter/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
LIVE_OBJS := $(patsubst librouter/%.c,$(BUILD)/obj/%.o,$(LIVE_SRCS))
# Vitess's topo values (librouter/fleet/vitess_*.proto): protoc-c writes
# their C into $(BUILD)/gen at build time (never committed).  The
# generated code and vitess_decode.c, its only caller, are linked into one
# object, vitess_proto.o, whose vschema__* / topodata__* names are made
# local: they leave neither librouter-etcd.so (router-etcd.map's local: *)
# nor librouter-etcd.a (objcopy), so they cannot clash with a program's
# own copy of Vitess's protos.
GEN := $(BUILD)/gen
PROTO_SRCS := $(wildcard librouter/fleet/*.proto)
PROTO_C := $(patsubst librouter/fleet/%.proto,$(GEN)/%.pb-c.c,$(PROTO_SRCS))
PROTO_H := $(PROTO_C:.c=.h)
PROTO_OBJS := $(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C))
PROTO_USER_OBJ := $(BUILD)/obj/fleet/vitess_decode.o
PROTO_OBJ := $(BUILD)/obj/fleet/vitess_proto.o
FLEET_OBJS := $(filter-out $(PROTO_USER_OBJ),$(patsubst librouter/%.c,$(BUILD)/obj/%.o,$(FLEET_SRCS))) $(PROTO_OBJ)
LIB_OBJS := $(CORE_OBJS) $(LIVE_OBJS)
# errbuf.c has no public symbols: the fleet's shared library links its own
# hidden copy instead of needing router__ exports from librouter.so.
ERRBUF_OBJ := $(BUILD)/obj/core/errbuf.o

DEPLIBS_CORE := -lxxhash -lnettle -ljansson
DEPLIBS_LIVE := -lck -lpthread
DEPLIBS := $(DEPLIBS_CORE) $(DEPLIBS_LIVE)
DEPLIBS_FLEET := -lcurl -lnettle -ljansson -lprotobuf-c -lpthread

STATIC := $(BUILD)/librouter.a
SONAME := librouter.so.$(VERSION_MAJOR)
SHARED := $(BUILD)/librouter.so.$(VERSION)
ETCD_STATIC := $(BUILD)/librouter-etcd.a
ETCD_SONAME := librouter-etcd.so.$(VERSION_MAJOR)
ETCD_SHARED := $(BUILD)/librouter-etcd.so.$(VERSION)
# What a program using the fleet library links (static archives).
ETCD_LINK := $(ETCD_STATIC) $(STATIC) $(DEPLIBS) $(DEPLIBS_FLEET)

# The Vitess tests link the fleet library too (the rule below).
TEST_FLEET_SRCS := tests/test_vitess_topo.c tests/test_vitess_latent.c tests/test_etcd_queue.c
TEST_FLEET_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_FLEET_SRCS))
TEST_SRCS := $(filter-out $(TEST_FLEET_SRCS),$(wildcard tests/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS)) $(TEST_FLEET_BINS)

# Debian packages each target needs.
PKGS_BUILD := gcc libc6-dev make pkg-config libck-dev libxxhash-dev nettle-dev libjansson-dev libcurl4-openssl-dev \
	libprotobuf-c-dev protobuf-c-compiler
# g++: check-headers compiles every public header as C++ too.
PKGS_TEST := $(PKGS_BUILD) libcmocka-dev g++

.PHONY: stress stress-asan stress-tsan
.PHONY: tools demo test-cli
.PHONY: test-ruby test-ruby-gem bench-ruby deps-ruby
.PHONY: test-etcd test-etcd-asan test-etcd-tsan deps-etcd demo-fleet demo-vitess
.PHONY: test-fleet fleet-bench
.PHONY: test-python test-python-sdist test-examples bench-python deps-python python-ext
.PHONY: all lib test test-c test-readme check-headers test-link test-abi test-fuzz-corpus fuzz fuzz-ci test-asan test-ubsan test-tsan test-valgrind bench bench-ci deps-bench deps deps-test help clean install uninstall test-install deps-install deps-all test-fresh deb test-deb check-exports

all: lib tools

help:
	@echo "make demo        build everything and run the demo (the main job)"
	@echo "make test        install what is missing, build, run every test suite"
	@echo "make lib         build $(STATIC) and $(SHARED)"
	@echo "make test-c      the C unit tests only"
	@echo "make tools       build $(BUILD)/routerctl and $(BUILD)/demo"
	@echo "make test-cli    routerctl end to end (the real binary)"
	@echo "make test-etcd   the etcd follower (TLS, auth), routerctl vitess dump/check against a real etcd (etcd-server)"
	@echo "make test-etcd-asan / test-etcd-tsan  the same under the sanitizers"
	@echo "make demo-fleet  etcd + follower processes: reshard, refuse, etcd restart"
	@echo "make demo-vitess a Vitess cell in etcd: reshard, the January 2026 poison, repair"
	@echo "make test-fleet  30 followers on a real etcd: reshard, refuse, restart (~1 min)"
	@echo "make fleet-bench 200 followers: convergence, idle CPU, etcd down, flapping"
	@echo "make check-exports  check that only router_ symbols are exported"
	@echo "make install     libraries, headers, pkg-config + CMake files, routerctl, man page (PREFIX, DESTDIR, LIBDIR)"
	@echo "make uninstall   remove what make install installed (same variables)"
	@echo "make test-install install into a temporary tree; build the README example with pkg-config and CMake"
	@echo "make deb         Debian packages in $(BUILD)/deb (librouter0, librouter-etcd0, librouter-dev, routerctl)"
	@echo "make test-deb    make deb, install them in a fresh chroot (or prefix), build the README example"
	@echo "make test-fresh  make demo + make test in a fresh minimal Debian 12 chroot (root; downloads packages)"
	@echo "make bench       full benchmarks (minutes): table + $(BUILD)/bench.json"
	@echo "make bench-ci    short benchmarks, fail past bench/thresholds.ini"
	@echo "make test-ruby   build the Ruby extension (bindings/ruby), run its minitest suite"
	@echo "make test-ruby-gem gem build + gem install into a temporary GEM_HOME, run the README's Ruby example"
	@echo "make bench-ruby  Ruby binding: #route vs a no-op C call, with and without YJIT"
	@echo "make test-python build the Python extension (bindings/python), run its pytest suite"
	@echo "make test-python-sdist build the sdist, pip install it offline into a fresh venv, run the README example"
	@echo "make bench-python Python binding: route() vs a no-op C call, route_many vs the C loop"
	@echo "make test-asan    C suites under ASan+UBSan (clang); test-tsan under TSan"
	@echo "make test-valgrind C suites under valgrind memcheck"
	@echo "make stress      readers vs publishers, every answer checked (STRESS_SECONDS=10)"
	@echo "make stress-asan / stress-tsan  the same under the sanitizers"
	@echo "make fuzz        libFuzzer on documents, shard names, values, Vitess topo values, latent judgements and etcd answers (FUZZ_SECONDS=60 each)"
	@echo "make check-headers / test-link  the API surface (C and C++; static and shared)"
	@echo "make test-abi    programs built against the 0.1 header run against this library"
	@echo "make clean"

# --- dependencies: install when root, else print the exact command --------
define need_pkgs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			(apt-get install -y -q $$missing || (apt-get update -q && apt-get install -y -q $$missing)) >/dev/null || exit 1; \
		else \
			echo "missing Debian packages; run:  sudo apt-get install -y$$missing" >&2; exit 1; \
		fi; \
	fi
endef

deps:
	$(call need_pkgs,$(PKGS_BUILD))
deps-test:
	$(call need_pkgs,$(PKGS_TEST))

# --- library -------------------------------------------------------------
# Building never installs packages (make deps, demo and test do).
lib: $(STATIC) $(SHARED) $(ETCD_STATIC) $(ETCD_SHARED)

# -MMD -MP: each object also depends on the headers it includes.
$(BUILD)/obj/%.o: librouter/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

-include $(wildcard $(BUILD)/obj/*/*.d)

# The fleet's sources see the generated headers (built before them).
$(patsubst librouter/%.c,$(BUILD)/obj/%.o,$(FLEET_SRCS)): LIB_CFLAGS += -I$(GEN)
$(patsubst librouter/%.c,$(BUILD)/obj/%.o,$(FLEET_SRCS)): | $(PROTO_H)

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: librouter/fleet/%.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Ilibrouter/fleet $<

# Generated code: the library's flags without its warning list.
$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(EXTRA_CFLAGS) -fPIC -fvisibility=hidden -I$(GEN) -c $< -o $@

$(PROTO_OBJ): $(PROTO_USER_OBJ) $(PROTO_OBJS)
	$(LD) -r -o $@.tmp $^
	objcopy --wildcard --localize-symbol='vschema__*' --localize-symbol='topodata__*' $@.tmp $@
	@rm -f $@.tmp

$(STATIC): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Symbol versions (librouter/router.map): a binary refuses to load a
# library that lacks a version node it needs.
SYMBOL_MAP := librouter/router.map
ETCD_SYMBOL_MAP := librouter/router-etcd.map

$(SHARED): $(LIB_OBJS) $(SYMBOL_MAP)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(SYMBOL_MAP) \
		-o $@ $(LIB_OBJS) $(DEPLIBS) $(LDFLAGS_ALL)
	ln -sf librouter.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/librouter.so

$(ETCD_STATIC): $(FLEET_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(ETCD_SHARED): $(FLEET_OBJS) $(ERRBUF_OBJ) $(SHARED) $(ETCD_SYMBOL_MAP)
	$(CC) -shared -Wl,-soname,$(ETCD_SONAME) -Wl,--version-script=$(ETCD_SYMBOL_MAP) \
		-o $@ $(FLEET_OBJS) $(ERRBUF_OBJ) \
		-L$(BUILD) -lrouter $(DEPLIBS_FLEET) $(LDFLAGS_ALL)
	ln -sf librouter-etcd.so.$(VERSION) $(BUILD)/$(ETCD_SONAME)
	ln -sf $(ETCD_SONAME) $(BUILD)/librouter-etcd.so

# Only public router_ names leave either library (router__ is internal),
# each in a version node of its map, and every ROUTER_EXTERN symbol is in
# the map (tests/abi/check_exports.sh says what is checked).
check-exports: $(SHARED) $(ETCD_SHARED)
	@tests/abi/check_exports.sh $(SHARED) $(SYMBOL_MAP) $(LIB_OBJS)
	@tests/abi/check_exports.sh $(ETCD_SHARED) $(ETCD_SYMBOL_MAP) $(FLEET_OBJS) $(ERRBUF_OBJ)

# --- install / uninstall --------------------------------------------------
# PREFIX, DESTDIR (staging: files go under DESTDIR, but name PREFIX), and
# each directory on its own, e.g. a multiarch LIBDIR=/usr/lib/x86_64-linux-gnu.
# The pkg-config and CMake files are written by the install itself
# (tools/gen_pkgfiles.sh) for the directories being installed into.
# Headers go in INCLUDEDIR/librouter/: #include <librouter/router.h>.
INSTALL_FILES := $(BUILD)/install-files
PUBLIC_HEADERS := $(wildcard include/librouter/*.h)
PKG_FILES := librouter.pc librouter-etcd.pc router.pc router-etcd.pc

install: lib tools
	@for d in "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)"; do case "$$d" in /*) ;; \
		*) echo "install: $$d: PREFIX, LIBDIR and INCLUDEDIR must be absolute paths" >&2; exit 2 ;; esac; done
	rm -rf $(INSTALL_FILES)
	sh tools/gen_pkgfiles.sh $(INSTALL_FILES) $(VERSION) $(PREFIX) $(LIBDIR) $(INCLUDEDIR)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/librouter $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/librouter/
	install -m 644 $(STATIC) $(ETCD_STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(ETCD_SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf librouter.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librouter.so
	ln -sf librouter-etcd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(ETCD_SONAME)
	ln -sf $(ETCD_SONAME) $(DESTDIR)$(LIBDIR)/librouter-etcd.so
	install -m 644 $(addprefix $(INSTALL_FILES)/,$(PKG_FILES)) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 644 $(INSTALL_FILES)/librouter-config.cmake $(INSTALL_FILES)/librouter-config-version.cmake $(DESTDIR)$(CMAKEDIR)/
	install -m 755 $(BUILD)/routerctl $(DESTDIR)$(BINDIR)/
	install -m 644 cli/routerctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 cli/routerctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/routerctl
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig && echo "install: ran ldconfig"; \
	else \
		echo "install: ldconfig not run (DESTDIR set or not root): run it as root once the files are in place," \
		     "or put $(LIBDIR) in LD_LIBRARY_PATH if it is not in /etc/ld.so.conf"; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/librouter/,$(notdir $(PUBLIC_HEADERS)))
	rm -f $(DESTDIR)$(LIBDIR)/librouter.a $(DESTDIR)$(LIBDIR)/librouter-etcd.a \
		$(DESTDIR)$(LIBDIR)/librouter.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/librouter.so \
		$(DESTDIR)$(LIBDIR)/librouter-etcd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(ETCD_SONAME) $(DESTDIR)$(LIBDIR)/librouter-etcd.so
	rm -f $(addprefix $(DESTDIR)$(PKGCONFIGDIR)/,$(PKG_FILES))
	rm -f $(DESTDIR)$(CMAKEDIR)/librouter-config.cmake $(DESTDIR)$(CMAKEDIR)/librouter-config-version.cmake
	rm -f $(DESTDIR)$(BINDIR)/routerctl $(DESTDIR)$(MANDIR)/man1/routerctl.1 $(DESTDIR)$(BASHCOMPDIR)/routerctl
	-rmdir $(DESTDIR)$(INCLUDEDIR)/librouter $(DESTDIR)$(CMAKEDIR) 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Every way of consuming an installed tree (tests/install/run.sh says
# which): pkg-config shared / static / -static, the fleet library, the 0.1
# names, CMake, DESTDIR staging, uninstall.  Installs into a temporary
# directory only.
PKGS_INSTALL := $(PKGS_BUILD) cmake file
deps-install:
	$(call need_pkgs,$(PKGS_INSTALL))

test-install: deps-install lib tools
	@sh tests/install/run.sh $(BUILD) $(VERSION)

# Debian packages (debian/): librouter0, librouter-etcd0, librouter-dev,
# routerctl, built with debhelper from a copy of the tracked tree (so the
# .debs land in $(BUILD)/deb, not above the checkout).
DEB_DIR := $(BUILD)/deb
PKGS_DEB := $(PKGS_TEST) debhelper dpkg-dev fakeroot
deb:
	$(call need_pkgs,$(PKGS_DEB))
	@dv=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$dv" = "$(VERSION)" ] || \
		{ echo "deb: debian/changelog says $$dv, router.h says $(VERSION): add a changelog entry (dch -v $(VERSION))"; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/librouter-$(VERSION)
	git ls-files -z -c -o --exclude-standard | tar --null -T - -cf - | tar -C $(DEB_DIR)/librouter-$(VERSION) -xf -
	(cd $(DEB_DIR)/librouter-$(VERSION) && dpkg-buildpackage -us -uc -b) > $(DEB_DIR)/build.log 2>&1 || \
		{ tail -30 $(DEB_DIR)/build.log; echo "deb: dpkg-buildpackage failed ($(DEB_DIR)/build.log)"; exit 1; }
	@ls $(DEB_DIR)/*.deb

test-deb: deb
	@sh tests/deb/run.sh $(DEB_DIR) $(VERSION)

# The README's two commands on a minimal fresh Debian 12 (debootstrap
# --variant=minbase, then only git and make): needs root and a mirror.
test-fresh:
	$(call need_pkgs,debootstrap)
	@sh tests/fresh/run.sh

# --- tests ---------------------------------------------------------------
$(BUILD)/tests/%: tests/%.c tests/testutil.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(STATIC) -lcmocka $(DEPLIBS) $(LDFLAGS_ALL)

# Vitess topo values (fleet/vitess_*.c) on tests/data/topo/, written by
# tools/gen_topo_fixtures.py; they see the generated protobuf-c headers.
$(TEST_FLEET_BINS): $(BUILD)/tests/%: tests/%.c tests/testutil.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -I$(GEN) -o $@ $< -lcmocka $(ETCD_LINK) $(LDFLAGS_ALL)

test-c: deps-test lib $(TEST_BINS)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; ( cd tests && ../$$t ) || fail=1; \
	done; exit $$fail

# The C example in README.md, compiled and run as written.
$(BUILD)/readme_example.c: README.md
	@mkdir -p $(BUILD)
	sed -n '/<!-- readme-example:begin -->/,/<!-- readme-example:end -->/p' README.md | grep -v '^<!--' | grep -v '^```' > $@

$(BUILD)/readme_example: $(BUILD)/readme_example.c $(STATIC)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(STATIC) $(DEPLIBS)

test-readme: lib $(BUILD)/readme_example
	@$(BUILD)/readme_example > $(BUILD)/readme_example.out
	@grep -q '^id 29999 -> shard 80- (version 1)$$' $(BUILD)/readme_example.out && \
	 grep -q '^refused: ROUTER_EEMPTY (user): ' $(BUILD)/readme_example.out && \
	 grep -q '^id 29999 -> shard 80- (still version 1)$$' $(BUILD)/readme_example.out || \
	 { echo "README example output differs:"; cat $(BUILD)/readme_example.out; exit 1; }
	@echo "README example: ok"

# Every suite the README lists, each a target of its own; the runner goes
# on past a failure and ends with one line: "make test: N passed, N failed".
TEST_SUITES := test-c check-exports test-readme check-headers test-link test-abi \
	test-install test-fuzz-corpus test-cli test-etcd test-ruby test-ruby-gem test-python test-python-sdist \
	test-examples
test: deps-all
	@sh tests/run_suites.sh "$(MAKE)" $(TEST_SUITES)

# What make test needs, installed once up front (make deps prints it).
deps-all:
	$(call need_pkgs,$(sort $(PKGS_TEST) $(PKGS_ETCD) $(PKGS_INSTALL) $(PKGS_RUBY) $(PKGS_PYTHON)))

# --- routerctl and the demo (README: "Routing documents and routerctl") ---
# Both link the static libraries; routerctl also links the fleet library.
# `routerctl help` prints cli/routerctl.1, turned into a header at build
# time (cli/man2help.sh), so the manual and the help never drift.
$(BUILD)/gen/routerctl_help.h: cli/routerctl.1 cli/man2help.sh
	@mkdir -p $(dir $@)
	sh cli/man2help.sh cli/routerctl.1 > $@.tmp && mv $@.tmp $@

$(BUILD)/routerctl: cli/routerctl.c cli/routerctl_etcd.c cli/routerctl_etcd.h $(BUILD)/gen/routerctl_help.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(BUILD)/gen -o $@ $< cli/routerctl_etcd.c $(ETCD_LINK) $(LDFLAGS_ALL)

$(BUILD)/demo: cli/demo.c $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(DEPLIBS) $(LDFLAGS_ALL)

tools: lib $(BUILD)/routerctl $(BUILD)/demo

# The README's first command: a real VSchema from tests/data/examples,
# readers routing while a writer reshards it 2 -> 4, the January 2026 empty
# VSchema refused, a rollback, and the figures (a few seconds).
DEMO_DOC ?= tests/data/examples/customer_sharded.json
DEMO_SECONDS ?= 2
demo: deps lib tools
	$(BUILD)/demo $(DEMO_DOC) $(DEMO_SECONDS)

# The CLI tests read JSON with jq when present, else with Debian's python3;
# with neither, jq is installed.
JSON_TOOL_PKG := $(if $(shell command -v jq 2>/dev/null; ls /usr/bin/python3 2>/dev/null),,jq)
test-cli: deps-test lib $(BUILD)/routerctl
	$(call need_pkgs,$(JSON_TOOL_PKG))
	tests/cli/test_routerctl.sh $(BUILD)/routerctl

# --- fleet distribution on etcd (README "Fleet distribution on etcd") ----
# Integration tests against a real etcd (Debian's etcd-server) that the
# harness starts on 127.0.0.1 with free ports and a temporary data
# directory, and kills; each test is bounded by alarm(), the run by timeout.
# openssl: the TLS tests make their own CA and certificates at run time.
PKGS_ETCD := $(PKGS_TEST) etcd-server curl openssl
ETCD_TEST := $(BUILD)/tests/etcd/test_etcd
ETCD_SECURITY_TEST := $(BUILD)/tests/etcd/test_etcd_security
VFOLLOW_TEST := $(BUILD)/tests/etcd/test_vitess_follow

deps-etcd:
	$(call need_pkgs,$(PKGS_ETCD))

$(ETCD_TEST): tests/etcd/test_etcd.c tests/etcd/harness.h tests/etcd/fake.h tests/testutil.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< -lcmocka $(ETCD_LINK) $(LDFLAGS_ALL)

# The follower with the Vitess source, on a real etcd laid out as a cell.
$(VFOLLOW_TEST): tests/etcd/test_vitess_follow.c tests/etcd/harness.h tests/etcd/fake.h tests/testutil.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< -lcmocka $(ETCD_LINK) $(LDFLAGS_ALL)

$(ETCD_SECURITY_TEST): tests/etcd/test_etcd_security.c tests/etcd/harness.h tests/testutil.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< -lcmocka $(ETCD_LINK) $(LDFLAGS_ALL)

# Then the follower with the Vitess source on a real etcd laid out as a
# cell, TLS and authentication (an etcd with its own CA, client
# certificates, passwords), routerctl vitess dump and check on a
# Vitess-shaped etcd (curl puts the keys), and routerctl's etcd commands
# over TLS with a password.
test-etcd: deps-etcd lib $(ETCD_TEST) $(VFOLLOW_TEST) $(ETCD_SECURITY_TEST) $(BUILD)/routerctl
	cd tests && timeout 300 $(abspath $(ETCD_TEST))
	cd tests && timeout 300 $(abspath $(VFOLLOW_TEST))
	cd tests && timeout 120 $(abspath $(ETCD_SECURITY_TEST))
	timeout 120 tests/cli/test_vitess_dump.sh $(BUILD)/routerctl
	timeout 120 tests/cli/test_vitess_check.sh $(BUILD)/routerctl
	timeout 120 tests/cli/test_routerctl_tls.sh $(BUILD)/routerctl

# The same under ASan+UBSan and under TSan (the follower's watcher and
# reporter threads against the caller's): own build directories.
test-etcd-asan: deps-etcd
	$(MAKE) --no-print-directory BUILD=build-etcd-asan CC=clang OPT="$(SAN_FLAGS_ASAN)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" test-etcd

test-etcd-tsan: deps-etcd
	$(MAKE) --no-print-directory BUILD=build-etcd-tsan CC=clang OPT="$(SAN_FLAGS_TSAN)" \
		EXTRA_LDFLAGS="-fsanitize=thread" test-etcd

# etcd, FLEET_MEMBERS routerctl watch processes, a resharding all follow,
# the empty VSchema all refuse while routing on, etcd killed and
# restarted; the fleet table after each step (about 15 s).
FLEET_MEMBERS ?= 3
demo-fleet: lib tools
	$(call need_pkgs,$(PKGS_BUILD) etcd-server curl)
	cli/demo-fleet.sh $(BUILD)/routerctl $(FLEET_MEMBERS)

# etcd laid out as a Vitess cluster (tools/vitess_topo.py writes it with
# Vitess's own protos), VITESS_MEMBERS routerctl vitess watch processes; a
# resharding cut over per tablet type, the January 2026 sequence (latent,
# then served: refused), the repair; vtgate's view beside librouter's.
VITESS_MEMBERS ?= 2
demo-vitess: lib tools
	$(call need_pkgs,$(PKGS_BUILD) etcd-server curl protobuf-compiler python3-protobuf)
	cli/demo-vitess.sh $(BUILD)/routerctl $(VITESS_MEMBERS)

# A fleet on one etcd (tests/fleet/fleet.c): MEMBERS followers in PROCS
# processes, reshardings timed from the put's answer to each member, the
# empty VSchema refused by all, idle CPU and requests, etcd down, restarted
# and flapping.  test-fleet (CI): 30 members, correctness asserted, timing
# only printed, bounded by timeout.  fleet-bench: the README's figures
# (FLEET_MEMBERS defaults to 200 here; a few minutes).
FLEET_BIN := $(BUILD)/tests/fleet/fleet
BENCH_MEMBERS := $(if $(filter command line environment,$(origin FLEET_MEMBERS)),$(FLEET_MEMBERS),200)
FLEET_PROCS ?= 10
FLEET_FLAP ?= 60

$(FLEET_BIN): tests/fleet/fleet.c tests/etcd/harness.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/etcd -o $@ $< $(ETCD_LINK) $(LDFLAGS_ALL)

test-fleet: deps-etcd lib $(FLEET_BIN)
	tests/fleet/run.sh 170 $(FLEET_BIN) -n 30 -p 3 -r 3 -f 6 -i 2 -d 2 -b 1000

# It also draws bench/charts/fleet-convergence.svg (bench/charts.gp, to
# commit with the README's figures) from $(BUILD)/bench-charts.
fleet-bench: deps-etcd lib $(FLEET_BIN)
	@mkdir -p $(abspath $(BUILD))/bench-charts
	tests/fleet/run.sh 900 $(FLEET_BIN) -n $(BENCH_MEMBERS) -p $(FLEET_PROCS) \
		-r 10 -f $(FLEET_FLAP) -i 10 -d 10 -o $(abspath $(BUILD))/bench-charts; \
	rc=$$?; printf '%s, %s members in %s processes, %s, %s vCPU, %s, commit %s\n' \
		"$$(date -u +%Y-%m-%d)" $(BENCH_MEMBERS) $(FLEET_PROCS) \
		"$$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" "$$(nproc)" \
		"$$(etcd --version 2>/dev/null | head -1)" "$$(git rev-parse --short HEAD 2>/dev/null)" \
		>$(BUILD)/bench-charts/fleet-caption.txt; \
	gnuplot -e "datadir='$(BUILD)/bench-charts'; outdir='bench/charts'; only='fleet'" \
		bench/charts.gp && echo "chart: bench/charts/fleet-convergence.svg"; exit $$rc

# --- API surface: headers alone, as C and C++; static and shared linking ---
# Each public header alone, as its users include it (<librouter/...>), in
# C11 and in C++11 (a C++ program includes it inside no extern "C").
check-headers: deps-test
	@for h in include/librouter/*.h; do \
		printf '#include <librouter/%s>\nint router__hdr_check;\n' $$(basename $$h) | \
		$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -fsyntax-only -x c - || exit 1; \
		printf '#include <librouter/%s>\nint router__hdr_check;\n' $$(basename $$h) | \
		$(CXX) -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude -fsyntax-only -x c++ - || exit 1; \
	done; echo "headers: each compiles alone as C11 and C++11"

$(BUILD)/smoke-static: tests/surface/smoke.c $(STATIC)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(DEPLIBS)
$(BUILD)/smoke-shared: tests/surface/smoke.c $(SHARED)
	$(CC) $(CFLAGS_ALL) -o $@ $< -L$(BUILD) -lrouter $(DEPLIBS)

# smoke-shared uses the core and live router only: it must not load
# libcurl (the fleet library alone needs it).
test-link: lib $(BUILD)/smoke-static $(BUILD)/smoke-shared
	@$(BUILD)/smoke-static
	@LD_LIBRARY_PATH=$(BUILD) $(BUILD)/smoke-shared
	@LD_LIBRARY_PATH=$(BUILD) ldd $(BUILD)/smoke-shared | grep -q 'librouter.so.$(VERSION_MAJOR) => $(BUILD)/' || \
		{ echo "smoke-shared is not linked against $(BUILD)/librouter.so"; exit 1; }
	@! LD_LIBRARY_PATH=$(BUILD) ldd $(BUILD)/smoke-shared | grep -q 'libcurl\|libprotobuf-c' || \
		{ echo "a program using only librouter loads libcurl or libprotobuf-c:"; LD_LIBRARY_PATH=$(BUILD) ldd $(BUILD)/smoke-shared; exit 1; }
	@echo "link: static and shared ok; librouter.so needs no libcurl, no libprotobuf-c"

# --- ABI (tests/abi): an old binary against this library ------------------
# The 0.1 header (tests/abi/router-0.1.h, frozen) is router.h on an include
# path of its own, so old_caller.c and layout.c see nothing newer.
# old_caller links against the library without symbol versions (the same
# objects, the same soname), as binaries of 0.1 did, and runs against the
# real $(SHARED); new_caller links ROUTER_0.2 and must refuse to load
# against a library built without that node (nor the later ones, which
# inherit from it).
ABI_DIR := $(BUILD)/abi
ABI_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(WERROR) $(EXTRA_CFLAGS)
ABI_BASE := 3ae8c8e

$(ABI_DIR)/0.1/router.h: tests/abi/router-0.1.h
	@mkdir -p $(dir $@)
	cp $< $@

$(ABI_DIR)/unversioned/librouter.so: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $(LIB_OBJS) $(DEPLIBS) $(LDFLAGS_ALL)

$(ABI_DIR)/no-0.2/$(SONAME): $(LIB_OBJS) $(SYMBOL_MAP)
	@mkdir -p $(dir $@)
	sed '/^ROUTER_0.2 {/,$$d' $(SYMBOL_MAP) > $(ABI_DIR)/no-0.2/router.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(ABI_DIR)/no-0.2/router.map \
		-o $@ $(LIB_OBJS) $(DEPLIBS) $(LDFLAGS_ALL)

$(ABI_DIR)/old_caller: tests/abi/old_caller.c $(ABI_DIR)/0.1/router.h $(ABI_DIR)/unversioned/librouter.so
	$(CC) $(ABI_CFLAGS) -I$(ABI_DIR)/0.1 -o $@ $< -L$(ABI_DIR)/unversioned -lrouter $(LDFLAGS_ALL)

$(ABI_DIR)/new_caller: tests/abi/new_caller.c $(wildcard include/librouter/*.h) $(SHARED) $(ETCD_SHARED)
	$(CC) $(ABI_CFLAGS) -Iinclude/librouter -o $@ $< -L$(BUILD) -lrouter-etcd -lrouter $(LDFLAGS_ALL)

$(ABI_DIR)/layout-0.1: tests/abi/layout.c $(ABI_DIR)/0.1/router.h
	$(CC) $(ABI_CFLAGS) -I$(ABI_DIR)/0.1 -o $@ $< $(LDFLAGS_ALL)

$(ABI_DIR)/layout-new: tests/abi/layout.c include/librouter/router.h
	$(CC) $(ABI_CFLAGS) -Iinclude/librouter -o $@ $< $(LDFLAGS_ALL)

test-abi: lib $(ABI_DIR)/old_caller $(ABI_DIR)/new_caller $(ABI_DIR)/layout-0.1 $(ABI_DIR)/layout-new $(ABI_DIR)/no-0.2/$(SONAME)
	@if git rev-parse -q --verify '$(ABI_BASE)^{commit}' >/dev/null 2>&1; then \
		git show $(ABI_BASE):include/router.h > $(ABI_DIR)/router-$(ABI_BASE).h && \
		sed '1,/^ \*\/$$/d' tests/abi/router-0.1.h | cmp -s - $(ABI_DIR)/router-$(ABI_BASE).h || \
		{ echo "tests/abi/router-0.1.h is no longer $(ABI_BASE):include/router.h below its comment"; exit 1; }; \
	fi
	@$(ABI_DIR)/layout-0.1 > $(ABI_DIR)/layout-0.1.txt
	@$(ABI_DIR)/layout-new > $(ABI_DIR)/layout-new.txt
	@diff -u $(ABI_DIR)/layout-0.1.txt $(ABI_DIR)/layout-new.txt || \
		{ echo "a struct fixed since 0.1 changed layout (router.h, \"How structs grow\")"; exit 1; }
	@echo "abi: $$(grep -c . $(ABI_DIR)/layout-new.txt) sizes and offsets of 0.1 structs unchanged"
	@! readelf -V $(ABI_DIR)/old_caller | grep -q 'ROUTER_0' || \
		{ echo "old_caller should have unversioned references, as 0.1 binaries do"; exit 1; }
	@LD_LIBRARY_PATH=$(BUILD) ldd $(ABI_DIR)/old_caller | grep -q 'librouter.so.$(VERSION_MAJOR) => $(BUILD)/' || \
		{ echo "old_caller does not load $(BUILD)/$(SONAME)"; exit 1; }
	@LD_LIBRARY_PATH=$(BUILD) $(ABI_DIR)/old_caller
	@LD_LIBRARY_PATH=$(ABI_DIR)/no-0.2 $(ABI_DIR)/old_caller > /dev/null || \
		{ echo "a 0.1 program needs something beyond ROUTER_0.1"; exit 1; }
	@LD_LIBRARY_PATH=$(BUILD) $(ABI_DIR)/new_caller
	@readelf --dyn-syms -W $(SHARED) | grep -q ' router_get_stats@@ROUTER_0\.1$$' && \
	 readelf --dyn-syms -W $(SHARED) | grep -q ' router_stats_get@@ROUTER_0\.2$$' && \
	 readelf --dyn-syms -W $(SHARED) | grep -q ' router_options_get@@ROUTER_0\.2$$' && \
	 readelf --dyn-syms -W $(ETCD_SHARED) | grep -q ' router_etcd_create@@ROUTER_ETCD_0\.1$$' && \
	 readelf --dyn-syms -W $(ETCD_SHARED) | grep -q ' router_etcd_status_get@@ROUTER_ETCD_0\.2$$' || \
		{ echo "exports lack their symbol versions (librouter/router.map, router-etcd.map)"; exit 1; }
	@readelf -V $(ABI_DIR)/new_caller | grep -q 'Name: ROUTER_0\.2' || \
		{ echo "new_caller records no need for ROUTER_0.2"; exit 1; }
	@if LD_LIBRARY_PATH=$(ABI_DIR)/no-0.2:$(BUILD) $(ABI_DIR)/new_caller > $(ABI_DIR)/no-0.2.out 2>&1; then \
		echo "new_caller loaded against a library without ROUTER_0.2"; exit 1; fi
	@grep -q "version \`ROUTER_0.2' not found (required by $(ABI_DIR)/new_caller)" $(ABI_DIR)/no-0.2.out || \
		{ echo "new_caller failed against the library without ROUTER_0.2, not for the version:"; cat $(ABI_DIR)/no-0.2.out; exit 1; }
	@echo "abi: symbols versioned; a program needing ROUTER_0.2 refuses a library without it: $$(head -1 $(ABI_DIR)/no-0.2.out | sed 's/.*: version/version/')"

# --- fuzzing (libFuzzer, clang).  Seeds and every input that once crashed
# live in tests/fuzz/corpus/<target>/ and are replayed by `make test`. ------
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz

# Every target links the fleet library too (fuzz_topo decodes Vitess's
# topo values with it); the others never pull a member of it in.
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(STATIC) $(ETCD_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(ETCD_LINK)

test-fuzz-corpus: lib $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz: deps-test
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" lib
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for t in $(FUZZ_TARGETS); do \
		clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Iinclude/librouter -Ilibrouter \
			-o $(FUZZ_BUILD)/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(FUZZ_BUILD)/librouter-etcd.a $(FUZZ_BUILD)/librouter.a \
			$(DEPLIBS) $(DEPLIBS_FLEET) || exit 1; \
		rm -rf $(FUZZ_BUILD)/fuzz/corpus_$$t; mkdir -p $(FUZZ_BUILD)/fuzz/corpus_$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -max_len=65536 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/fuzz/$$t- \
			$(FUZZ_BUILD)/fuzz/corpus_$$t tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/fuzz/$$t.log 2>&1; rc=$$?; \
		grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|Test unit written' $(FUZZ_BUILD)/fuzz/$$t.log; \
		test $$rc = 0 || { echo "fuzz $$t found a crash (log: $(FUZZ_BUILD)/fuzz/$$t.log): add the artifact to tests/fuzz/corpus/$$t and fix it"; exit 1; }; \
	done

fuzz-ci:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# --- stress: readers vs publishers, every answer checked (bounded time) ---
STRESS_SECONDS ?= 10
STRESS_READERS ?= 2

$(BUILD)/stress: tests/stress.c $(STATIC)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(DEPLIBS) $(LDFLAGS_ALL)

stress: lib $(BUILD)/stress
	$(BUILD)/stress $(STRESS_SECONDS) $(STRESS_READERS)

stress-asan: deps-test
	$(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT="$(SAN_FLAGS_ASAN)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" stress

stress-tsan: deps-test
	$(MAKE) --no-print-directory BUILD=build-tsan CC=clang OPT="$(SAN_FLAGS_TSAN)" \
		EXTRA_LDFLAGS="-fsanitize=thread" stress

# --- sanitizers and valgrind (clang; each in its own build directory) ---
SAN_FLAGS_ASAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_FLAGS_TSAN := -O1 -g -fsanitize=thread

test-asan: deps-test
	$(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT="$(SAN_FLAGS_ASAN)" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" test-c

test-ubsan: test-asan

test-tsan: deps-test
	$(MAKE) --no-print-directory BUILD=build-tsan CC=clang OPT="$(SAN_FLAGS_TSAN)" \
		EXTRA_LDFLAGS="-fsanitize=thread" test-c

test-valgrind: deps-test lib $(TEST_BINS)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== valgrind $$t"; ( cd tests && valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=9 ../$$t ) || fail=1; \
	done; exit $$fail

# --- benchmarks (bench/README.md) -----------------------------------------
# bench.c links the static library and includes librouter/ internals for the
# floor (router__tdef_route_u64 on a frozen table).  callgrind.h comes with
# Debian's valgrind package, which also runs the instruction-count pass.
# gnuplot-nox draws bench/charts/*.svg (bench/charts.gp).
PKGS_BENCH := $(PKGS_BUILD) valgrind gnuplot-nox
BENCH_BIN := $(BUILD)/bench/bench

$(BENCH_BIN): bench/bench.c bench/minimal.c bench/minimal.h $(wildcard include/librouter/*.h librouter/*/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ bench/bench.c bench/minimal.c $(STATIC) $(DEPLIBS) -lm $(LDFLAGS_ALL)

deps-bench:
	$(call need_pkgs,$(PKGS_BENCH))

# Full run (minutes): every size, vindex, writer rate, 1 and 2 readers.
# Then the charts (bench/charts/lookup-*.svg, to commit with the README's
# figures), drawn even when a threshold failed; the status is the bench's.
bench: deps-bench lib $(BENCH_BIN)
	$(BENCH_BIN) --json $(BUILD)/bench.json --cg-dir $(BUILD)/bench-cg \
		--charts $(BUILD)/bench-charts --thresholds bench/thresholds.ini; \
	rc=$$?; gnuplot -e "datadir='$(BUILD)/bench-charts'; outdir='bench/charts'" \
		bench/charts.gp && echo "charts: bench/charts/lookup-*.svg"; exit $$rc
	$(MAKE) --no-print-directory bench-ruby
	$(MAKE) --no-print-directory bench-python

# Short run (< 1 min) for CI: fails only past bench/thresholds.ini.
bench-ci: deps-bench lib $(BENCH_BIN)
	$(BENCH_BIN) --ci --json $(BUILD)/bench-ci.json --cg-dir $(BUILD)/bench-cg \
		--thresholds bench/thresholds.ini

# --- Ruby binding (bindings/ruby; README "Ruby") --------------------------
# Debian's ruby, built out of tree in $(BUILD)/ruby; the extension compiles
# librouter's core and live layers from this checkout itself (extconf.rb,
# pkg-config for libck, xxhash, nettle, jansson), so no `make lib` first.
# The Rakefile does the work, so `rake test` in bindings/ruby is the same
# run.  test-ruby-gem: the gem as users get it (bindings/ruby/test/gem/run.sh).
# etcd-server: test_follower.rb runs the Follower against a real etcd.
PKGS_RUBY := $(PKGS_BUILD) ruby ruby-dev ruby-minitest rake etcd-server
RUBY_ENV = RUBY_BUILD_DIR=$(abspath $(BUILD))/ruby

deps-ruby:
	$(call need_pkgs,$(PKGS_RUBY))

test-ruby: deps-ruby
	$(RUBY_ENV) $(RUBY) -S rake -f bindings/ruby/Rakefile test

# gem build (from the root and from elsewhere), gem install into a
# temporary GEM_HOME with no environment, the README's Ruby example run
# against it; checks the gem was loaded, not the checkout.
test-ruby-gem: deps-ruby
	@sh bindings/ruby/test/gem/run.sh $(RUBY)

# The interpreter as is, then under YJIT when this ruby has it.
bench-ruby: deps-ruby
	$(RUBY_ENV) $(RUBY) -S rake -f bindings/ruby/Rakefile bench
	@if $(RUBY) --yjit -e 'exit(RubyVM::YJIT.enabled? ? 0 : 1)' 2>/dev/null; then \
		$(RUBY_ENV) RUBYOPTS=--yjit $(RUBY) -S rake -f bindings/ruby/Rakefile bench; \
	else echo "bench-ruby: this ruby has no YJIT"; fi

# --- Python binding (bindings/python; README "Python") ---------------------
# Always Debian's /usr/bin/python3 ($(PYTHON)) with python3-dev and
# python3-pytest: the python3 first on PATH here is a pyenv build without
# pytest that uses the same extension suffix, so a module built for one
# imports silently in the other.  setup.py compiles librouter's core and
# live layers itself (no make lib; pkg-config for the libraries) and links
# them into the module, built in place (bindings/python/shardrouter/), its
# temporaries in $(BUILD)/python; it rebuilds when any C source or header
# changes.  python3-mypy lets the tests check the stubs (stubtest).
# test-python-sdist also needs python3-build (python3 -m build), python3-venv
# and the wheels a fresh venv installs offline (python3-pip-whl,
# python3-setuptools-whl, python3-wheel-whl); python3-wheel builds wheels
# outside a venv (pip install --no-build-isolation ./bindings/python).
# etcd-server: tests/test_follower.py runs the Follower against a real etcd.
PKGS_PYTHON := $(PKGS_BUILD) python3-dev python3-pytest python3-setuptools python3-mypy \
	python3-wheel python3-build python3-venv python3-pip-whl python3-setuptools-whl python3-wheel-whl \
	etcd-server

deps-python:
	$(call need_pkgs,$(PKGS_PYTHON))

python-ext: deps-python
	cd bindings/python && $(PYTHON) setup.py -q \
		build_ext --inplace --build-temp $(abspath $(BUILD))/python

test-python: python-ext
	cd bindings/python && $(PYTHON) -m pytest -q -p no:cacheprovider tests

# examples/: the README's three blocks as files, each run from the
# checkout (tests/examples.sh); needs the in-place Python module and the
# Ruby extension built by test-python / test-ruby.
test-examples: lib python-ext deps-ruby
	$(RUBY_ENV) $(RUBY) -S rake -f bindings/ruby/Rakefile compile
	@sh tests/examples.sh $(BUILD) $(PYTHON) $(RUBY)

# The sdist, installed into a fresh venv with no network and imported from
# elsewhere; the README's Python example run with it (the steps:
# bindings/python/tests/sdist.sh).  Needs no make lib.
test-python-sdist: deps-python
	@sh bindings/python/tests/sdist.sh $(PYTHON) $(abspath $(BUILD))/python-sdist

# Paired ratios to no-op calls and to the C loop (bench.py's docstring).
bench-python: python-ext
	$(PYTHON) bindings/python/bench.py --json $(BUILD)/bench-python.json

# --- collation tables (unicode_loose_*) ------------------------------------
# librouter/core/collate_tables.c is generated and committed, so building
# needs no Go: tools/gen_collation.py reads x/text 0.7.0's collate tables
# (golang-golang-x-text-dev) and Unicode 15.0.0 (unicode-data).
# test-collation-go compares router__collate_key with Go's x/text itself
# (golang-go, offline, GOPATH=/usr/share/gocode) on generated strings.
PKGS_COLLATION := golang-golang-x-text-dev unicode-data
PKGS_COLLATION_GO := $(PKGS_COLLATION) golang-go
.PHONY: regen-collation test-collation-go bench-collation

regen-collation:
	$(call need_pkgs,$(PKGS_COLLATION))
	$(PYTHON) tools/gen_collation.py -o librouter/core/collate_tables.c

test-collation-go: lib
	$(call need_pkgs,$(PKGS_COLLATION_GO))
	@mkdir -p $(BUILD)/collate_oracle
	cd tests/collate_oracle && GO111MODULE=off GOPATH=/usr/share/gocode \
		GOCACHE=$(abspath $(BUILD))/collate_oracle/gocache go build -o $(abspath $(BUILD))/collate_oracle/oracle oracle.go
	$(CC) $(CFLAGS_ALL) -Ilibrouter/core -o $(BUILD)/collate_oracle/ckey tests/collate_oracle/ckey.c $(STATIC) $(DEPLIBS) $(LDFLAGS_ALL)
	$(PYTHON) tests/collate_oracle/compare.py --go $(BUILD)/collate_oracle/oracle --c $(BUILD)/collate_oracle/ckey \
		--corpus tests/fuzz/corpus/collate

# ns/byte of the collation key and its two hashes (bench/bench_collate.c).
bench-collation: lib
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS_ALL) -o $(BUILD)/bench/bench_collate bench/bench_collate.c $(STATIC) $(DEPLIBS) $(LDFLAGS_ALL)
	$(BUILD)/bench/bench_collate

clean:
	rm -rf $(BUILD)
