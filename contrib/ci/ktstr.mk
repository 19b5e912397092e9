# ktstr.mk: a Makefile fragment for CI.  Include it from your project's
# Makefile:
#
#     KTSTR_DIR   := /path/to/ktstr        # a checkout (built here) ...
#     KTSTR_TESTS := tests/sched            # your suite(s)
#     include $(KTSTR_DIR)/contrib/ci/ktstr.mk
#
# and run `make ktstr-test`.  Knobs (all optional, command line or env):
#
#     KTSTR_KERNEL_ID   kernel id for --kernel (default: ktstr's discovery
#                       chain: the newest cached kernel, else Debian's)
#     KTSTR_SHARD       K/N for a CI matrix (e.g. 2/4)
#     KTSTR_JUNIT       JUnit report path (default ktstr-junit.xml)
#     KTSTR_BUDGET_SECS a time budget, as ktstr-test reads it
#     KTSTR_TEST_ARGS   anything else for ktstr-test
#
# The kernel lives in the XDG cache (~/.cache/ktstr/kernels): cache that
# directory between CI jobs, keyed on ktstr.kconfig, and `ktstr-kernel`
# becomes a no-op.  Sidecars go to KTSTR_RUNS_ROOT (default
# ktstr-runs/ here, so CI can upload them as an artifact).

KTSTR_DIR       ?= $(dir $(lastword $(MAKEFILE_LIST)))../..
KTSTR_BIN       ?= $(KTSTR_DIR)/build/bin
KTSTR_TESTS     ?= ktstr-tests
KTSTR_JUNIT     ?= ktstr-junit.xml
KTSTR_KERNEL_ID ?=
KTSTR_SHARD     ?=
KTSTR_TEST_ARGS ?=
export KTSTR_RUNS_ROOT ?= $(CURDIR)/ktstr-runs

ktstr_kernel_arg = $(if $(KTSTR_KERNEL_ID),--kernel '$(KTSTR_KERNEL_ID)')
ktstr_shard_arg  = $(if $(KTSTR_SHARD),--shard $(KTSTR_SHARD))

# ktstr's programs (and the Debian packages they need, once).
ktstr-tools:
	$(MAKE) -C $(KTSTR_DIR) all

# The default kernel into the cache: a no-op when the cache was restored.
ktstr-kernel: ktstr-tools
	$(KTSTR_DIR)/share/ktstr/fetch-debian-kernel >/dev/null

# The suite: exit status is ktstr-test's (1 when a case failed; 2 when none
# failed but an infrastructure error outlived its retries, or a sidecar
# could not be written).
ktstr-test: ktstr-kernel
	$(KTSTR_BIN)/ktstr-test $(ktstr_kernel_arg) $(ktstr_shard_arg) \
		--junit $(KTSTR_JUNIT) $(KTSTR_TEST_ARGS) $(KTSTR_TESTS)

# What the runs left behind, for the log (never fails the job).
ktstr-history:
	-$(KTSTR_BIN)/ktstr-stats list

.PHONY: ktstr-tools ktstr-kernel ktstr-test ktstr-history
