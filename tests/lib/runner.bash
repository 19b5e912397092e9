# Shared by the ktstr-test suites (tests/runner.bats with VMs,
# tests/cli/runner.bats without): a private runs root and lock dir, none of
# the runner's variables inherited, and ktest/spelling_suite.

runner_env() {
	export KTSTR_RUNS_ROOT="$TEST_TMP/runs"
	export KTSTR_LOCK_DIR="$TEST_TMP/locks"
	unset KTSTR_SIDECAR_DIR KTSTR_BUDGET_SECS KTSTR_KERNEL_LIST KTSTR_NO_SKIP_MODE \
		KTSTR_NO_PERF_MODE KTSTR_CI KTSTR_PROJECT_COMMIT
}

ktest() {
	"$BIN/ktstr-test" --kernel "$KERNEL" "$@"
}

# Thresholds in test files spelt as in scenarios or by the older test-file
# names (min_iter_rate, max_p99_wake_us): one check table behind both.
spelling_suite() {
	mkdir -p "$TEST_TMP/spell"
	printf '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"], "thresholds": {"%s": 1e9, "%s": "off"}}\n' \
		min_iter_rate max_p99_wake_us >"$TEST_TMP/spell/old.json"
	printf '{"scenario": "steady", "duration": "2s", "presets": ["tiny-1llc"], "thresholds": {"%s": 1e9, "%s": "off"}}\n' \
		min_iterations_per_sec max_p99_wake_latency_us >"$TEST_TMP/spell/new.json"
}
