# ktstr: build, test, install.
#
# Layout of the build tree mirrors the install tree so programs find their
# helpers the same way in both: build/bin/ktstr-*, build/libexec/ktstr/ktstr-agent,
# build/share/ktstr -> ../../share/ktstr.

VERSION    := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
PKGS       := jansson yaml-0.1 libcurl libarchive libelf libcrypto libbpf zlib libzstd

WARN       := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wvla
# lib/ is split by what may run where (README, Layout): lib/core is
# what the static guest agent links (libc, jansson and libyaml only; the
# agent itself adds libbpf), the other folders are host-only.  Core and guest sources see only lib/core's
# headers, so a core file that includes a host-only header does not build.
CORE_DIR   := lib/core
HOST_DIRS  := lib/host lib/kernel lib/vm lib/results lib/runner lib/ctprof lib/verify \
              lib/selftests lib/export lib/plot
INC_HOST   := $(addprefix -I,$(CORE_DIR) $(HOST_DIRS))
INC_CORE   := -I$(CORE_DIR)
INC        := $(INC_HOST)
BASECFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE \
              -DKTSTR_VERSION='"$(VERSION)"'
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# cairo and pango paint ktstr-stats --svg (lib/plot): ktstr-stats alone
# links them, so the other programs, the static agent and ktstr-verdict
# do not carry a graphics stack.
PLOT_PKGS  := cairo pangocairo pangoft2 fontconfig
PLOT_CFLAGS = $(shell pkg-config --cflags $(PLOT_PKGS) 2>/dev/null)
PLOT_LIBS   = $(shell pkg-config --libs $(PLOT_PKGS) 2>/dev/null)
CFLAGS     ?=
LDFLAGS    ?=
ALL_CFLAGS  = $(BASECFLAGS) $(INC) $(PKG_CFLAGS) $(CFLAGS)

B          := build
LIB_HDR    := $(wildcard lib/*/*.h)
CORE_SRC   := $(sort $(wildcard $(CORE_DIR)/*.c))
CORE_OBJ   := $(CORE_SRC:%.c=$(B)/obj/%.o)
CORE_A     := $(B)/libktstr-core.a
LIB_SRC    := $(sort $(filter-out lib/plot/%,$(wildcard lib/*/*.c)))
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_A      := $(B)/libktstr.a
PLOT_SRC   := $(sort $(wildcard lib/plot/*.c))
PLOT_A     := $(B)/libktstr-plot.a
ASAN_PLOT_A := $(B)/asan/libktstr-plot.a
CMD_SRC    := $(sort $(wildcard cmd/ktstr-*.c))
CMDS       := $(CMD_SRC:cmd/%.c=$(B)/bin/%)
GUEST_SRC  := $(sort $(wildcard guest/*.c))
GUEST_OBJ  := $(GUEST_SRC:%.c=$(B)/obj/%.o)
AGENT      := $(B)/libexec/ktstr/ktstr-agent
# The verdict printer an exported reproducer carries (ktstr-export(1)):
# static like the agent, so it runs on a machine without ktstr.
VERDICT    := $(B)/libexec/ktstr/ktstr-verdict
SCRIPTS    := $(B)/bin/ktstr
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
ASAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
ASAN_OBJ   := $(LIB_SRC:%.c=$(B)/asan/%.o)
# The guest engine for tests/unit/test_guest_*.c, in an archive so a test
# pulls only the objects it reaches: agent.o holds main() and nothing
# else a test could call, so it is never pulled.
GUEST_ASAN_OBJ := $(GUEST_SRC:%.c=$(B)/asan/%.o)
GUEST_ASAN_A   := $(B)/asan/libguest.a
MANS       := $(sort $(wildcard man/*.[0-9]))
# The host programs again with ASan+UBSan, for the bats suites under
# `make check`: build/asan mirrors the build/install layout (bin, libexec,
# share) so ktstr-vm finds the agent and share/ktstr from its own directory
# as the release programs do.  The agent stays the normal static build: it
# runs as PID 1 in the guest, where no sanitizer runtime could report.
ASAN_LIB_A := $(B)/asan/libktstr.a
ASAN_CMDS  := $(CMD_SRC:cmd/%.c=$(B)/asan/bin/%)
ASAN_TREE  := $(ASAN_CMDS) $(B)/asan/bin/ktstr $(B)/asan/libexec/ktstr/ktstr-agent \
              $(B)/asan/libexec/ktstr/ktstr-verdict \
              $(B)/asan/share/ktstr

# Quiet by default, as in git and the kernel; V=1 shows full commands.
ifeq ($(V),1)
Q :=
say =
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

all: $(CMDS) $(AGENT) $(VERDICT) $(SCRIPTS) $(B)/share/ktstr

# KTSTR_VERSION is compiled into a few objects: they rebuild when it
# changes (a new commit), or --version and its unit test would go stale.
VERSION_STAMP := $(B)/version
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
VERSIONED := lib/host/opts lib/core/ctprof lib/export/export_preamble
$(foreach f,$(VERSIONED),$(B)/obj/$(f).o $(B)/asan/$(f).o $(B)/fuzz/obj/$(f).o) \
$(B)/unit/test_opts: $(VERSION_STAMP)
FORCE:

$(B)/obj/%.o: %.c $(LIB_HDR) $(wildcard guest/*.h)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(CORE_A): $(CORE_OBJ)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# The agent's rule as a build fact (see CORE_DIR above), in every build
# flavour.
$(B)/obj/lib/core/%.o $(B)/obj/guest/%.o $(B)/asan/lib/core/%.o $(B)/asan/guest/%.o \
$(B)/fuzz/obj/lib/core/%.o: INC := $(INC_CORE)

$(PLOT_A): $(PLOT_SRC:%.c=$(B)/obj/%.o)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(ASAN_PLOT_A): $(PLOT_SRC:%.c=$(B)/asan/%.o)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/obj/lib/plot/%.o $(B)/asan/lib/plot/%.o: PKG_CFLAGS += $(PLOT_CFLAGS)

$(B)/bin/ktstr-stats: cmd/ktstr-stats.c $(LIB_A) $(PLOT_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) -o $@ $< $(PLOT_A) $(LIB_A) $(LDFLAGS) \
		$(PLOT_LIBS) $(PKG_LIBS)

$(B)/asan/bin/ktstr-stats: cmd/ktstr-stats.c $(ASAN_LIB_A) $(ASAN_PLOT_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) $(ASAN) -O1 -o $@ $< $(ASAN_PLOT_A) $(ASAN_LIB_A) \
		$(LDFLAGS) $(PLOT_LIBS) $(PKG_LIBS)

$(B)/bin/%: cmd/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(LDFLAGS) $(PKG_LIBS)

# The guest agent runs as PID 1 inside the VM: fully static, no loader.
# libbpf reads the scheduler's BPF programs (guest/bpfprog.c); libelf, zlib
# and zstd are what a static libbpf needs.  Stripped (-s): it is copied
# into every guest image, and its 1 MB of debug info cost about 30 ms of
# every TCG boot (issue 16).
$(AGENT): $(GUEST_OBJ) $(CORE_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) -static -s -o $@ $(GUEST_OBJ) $(CORE_A) -ljansson -lyaml \
		-lbpf -lelf -lz -lzstd -lm

# ktstr-stats' verdict engine alone: libc, jansson, libyaml and libm, all
# static (Debian's -dev packages ship the .a files); stripped, as it is
# copied into every export.
$(VERDICT): libexec/ktstr-verdict.c $(LIB_A) $(VERSION_STAMP)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) -static -s -o $@ $< $(LIB_A) -ljansson -lyaml -lm

$(B)/bin/ktstr: cmd/ktstr.sh $(VERSION_STAMP)
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/' $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

$(B)/share/ktstr:
	@mkdir -p $(B)/share
	ln -sfn ../../share/ktstr $@

# Unit tests: the library rebuilt with ASan+UBSan, linked with cmocka.
$(B)/asan/%.o: %.c $(LIB_HDR) $(wildcard guest/*.h)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $(ASAN) -O1 -c -o $@ $<

$(B)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) $(ASAN) -O1 -o $@ $< $(ASAN_OBJ) $(PKG_LIBS) -lcmocka

$(GUEST_ASAN_A): $(GUEST_ASAN_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# Tests of the guest engine (the more specific pattern wins) see its
# headers and link the guest archive before the library it uses.
$(B)/unit/test_guest_%: tests/unit/test_guest_%.c $(wildcard tests/unit/*.h) $(GUEST_ASAN_A) $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) $(ASAN) -O1 -Iguest -o $@ $< $(GUEST_ASAN_A) \
		$(ASAN_OBJ) $(PKG_LIBS) -lcmocka

$(ASAN_LIB_A): $(ASAN_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/asan/bin/%: cmd/%.c $(ASAN_LIB_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) $(ASAN) -O1 -o $@ $< $(ASAN_LIB_A) $(LDFLAGS) $(PKG_LIBS)

$(B)/asan/bin/ktstr: $(B)/bin/ktstr
	@mkdir -p $(@D)
	cp $< $@

$(B)/asan/libexec/ktstr/ktstr-agent: $(AGENT)
	@mkdir -p $(@D)
	ln -sfn ../../../libexec/ktstr/ktstr-agent $@

$(B)/asan/libexec/ktstr/ktstr-verdict: $(VERDICT)
	@mkdir -p $(@D)
	ln -sfn ../../../libexec/ktstr/ktstr-verdict $@

$(B)/asan/share/ktstr:
	@mkdir -p $(@D)
	ln -sfn ../../../share/ktstr $@

asan-bins: $(ASAN_TREE)
# Fuzzing (tests/fuzz): the library rebuilt with clang for libFuzzer, ASan
# and UBSan, one target per parser.  The clang is found by
# tests/fuzz/find-cc (one with the fuzzer runtime) and passed down as
# FUZZ_CC; build/fuzz/cc records it so a change of compiler rebuilds.
FUZZ_CC    ?= clang
FUZZ_RUNS  ?= 1000000
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/bin/%)
FUZZ_OBJ   := $(LIB_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_A     := $(B)/fuzz/libktstr.a
# clang 14 also flags v*printf wrappers and positional initialisers that
# leave trailing fields zero, both deliberate here and silent under gcc.
FUZZ_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all -O1 \
              -Wno-format-nonliteral -Wno-missing-field-initializers
FUZZ_STAMP := $(B)/fuzz/cc

$(B)/fuzz/obj/%.o: %.c $(LIB_HDR) $(FUZZ_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
		-c -o $@ $<

$(FUZZ_A): $(FUZZ_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/fuzz/bin/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_A)
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_A) $(PKG_LIBS)

# Canned scenarios resolve from <exe>/../share/ktstr, as for the programs.
$(B)/fuzz/share/ktstr:
	@mkdir -p $(B)/fuzz/share
	ln -sfn ../../../share/ktstr $@

fuzz-bins: $(FUZZ_BINS) $(B)/fuzz/share/ktstr
	@:

# Pick the clang, note it, then build with it.
fuzz-build:
	@cc=$$(bash tests/fuzz/find-cc) || exit 2; mkdir -p $(B)/fuzz; \
	echo "$$cc" | cmp -s - $(FUZZ_STAMP) || echo "$$cc" >$(FUZZ_STAMP); \
	$(MAKE) --no-print-directory FUZZ_CC="$$cc" fuzz-bins

# Each target for FUZZ_RUNS executions, one at a time.
fuzz: deps fuzz-build
	@bash tests/fuzz/run --runs $(FUZZ_RUNS) $(FUZZ_BINS)

# Every committed corpus input once through its target (part of check).
fuzz-regress: fuzz-build
	@bash tests/fuzz/run --regress $(FUZZ_BINS)

deps:
	@bash contrib/install-deps

unit: $(UNIT_BINS)
	@bash tests/run-unit $(UNIT_BINS)

# Every runner always runs, so CI shows every summary line; any failing
# fails the target.  The bats suites run the ASan+UBSan programs, so a leak
# or memory error anywhere in a program fails the run.
check: deps
	@$(MAKE) --no-print-directory all unit-bins asan-bins
	@rc=0; bash tests/lint || rc=1; \
	bash tests/run-unit $(UNIT_BINS) || rc=1; \
	KTSTR_ASAN=1 bash tests/run-bats || rc=1; \
	$(MAKE) --no-print-directory fuzz-regress || rc=1; exit $$rc

# The VM-free bats suites (tests/cli) alone, under ASan+UBSan: seconds, no
# kernel fetched, no VM booted.  `check` runs them too, with everything else.
check-cli:
	@$(MAKE) --no-print-directory all asan-bins
	@KTSTR_ASAN=1 bash tests/run-bats --cli

unit-bins: $(UNIT_BINS)

# Size and shape limits of the tree (tests/lint says which).
lint:
	@bash tests/lint

demo: deps all
	@bash contrib/demo

# A real kernel build (Debian's linux-source with ktstr.kconfig): far too
# slow for every CI run, so it is opt-in.
check-slow: deps all
	@bash tests/slow/kernel-build

bench: deps all
	@bash tests/bench/run
	@bash tests/bench/ctprof
	@bash tests/bench/throughput

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/ktstr \
		$(DESTDIR)$(PREFIX)/share/ktstr
	install -m 755 $(CMDS) $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(AGENT) $(VERDICT) $(DESTDIR)$(PREFIX)/libexec/ktstr/
	cp -RL share/ktstr/. $(DESTDIR)$(PREFIX)/share/ktstr/
	for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done

clean:
	rm -rf $(B)

.PHONY: FORCE all deps lint unit unit-bins asan-bins check check-cli check-slow demo bench install \
	clean \
	fuzz fuzz-build fuzz-bins fuzz-regress
.DELETE_ON_ERROR:
# Objects reached only through pattern chains are still worth keeping.
.SECONDARY: $(PLOT_SRC:%.c=$(B)/obj/%.o) $(PLOT_SRC:%.c=$(B)/asan/%.o) $(LIB_OBJ) $(CORE_OBJ) $(ASAN_OBJ) $(GUEST_OBJ) $(GUEST_ASAN_OBJ) $(ASAN_LIB_A) $(FUZZ_OBJ)
