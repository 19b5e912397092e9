# Shared by the ktstr-test suites (tests/runner.bats with VMs,
# tests/cli/runner.bats without): a private runs root and lock dir, none of
# the runner's variables inherited, and ktest/spelling_suite.

runner_env() {
	export KTSTR_RUNS_ROOT="$TEST_TMP/runs"
	export KTSTR_LOCK_DIR="$TEST_TMP/locks"
	unset KTSTR_SIDECAR_DIR KTSTR_BUDGET_SECS KTSTR_KERNEL_LIST KTSTR_NO_SKIP_MODE \
		KTSTR_NO_PERF_MODE KTSTR_CI KTSTR_PROJECT_COMMIT
}

# For the planning suites (tests/cli), which boot no VM: a stand-in for
# the fixtures' scx_simple, so the up-front scheduler check finds it in a
# test's private cache.
fake_scx_simple() {
	export KTSTR_SCHEDULER_BIN_SCX_SIMPLE
	KTSTR_SCHEDULER_BIN_SCX_SIMPLE=$(type -P true)
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

# ---- ktstr-test --html -------------------------------------------------
# The Debian python3 that has the report checker's modules
# (python3-html5lib, python3-pil): a python3 earlier in PATH (pyenv, a
# venv) may lack them.
html_python() {
	local p
	for p in python3 /usr/bin/python3; do
		"$p" -c 'import html5lib, PIL' 2>/dev/null && { echo "$p"; return 0; }
	done
	echo "no python3 with html5lib and PIL: run contrib/install-deps" >&2
	return 1
}

# The rows of DIR/index.html, "VERDICT<TAB>NAME<TAB>REASON", after
# checking the page parses and every link resolves (tests/lib/html-report.py).
html_rows() {
	local py
	py=$(html_python) || return 1
	"$py" "$(dirname "${BASH_SOURCE[0]}")/html-report.py" "$1"
}

# A screenshot of DIR/index.html in headless chromium (1200x900), checked
# to be a real picture showing COLOUR (#rrggbb).  The profile stays in the
# test's directory; chromium's D-Bus complaints go to FILE.err.
html_screenshot() {
	local dir=$1 png=$2 colour=$3 py
	py=$(html_python) || return 1
	command -v chromium >/dev/null || {
		echo "chromium is not installed: run contrib/install-deps" >&2
		return 1
	}
	timeout 180 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$TEST_TMP/chromium" --window-size=1200,900 \
		--screenshot="$png" "file://$(realpath "$dir")/index.html" 2>"$png.err" || {
		cat "$png.err" >&2
		return 1
	}
	"$py" "$(dirname "${BASH_SOURCE[0]}")/html-report.py" --png "$png" 1200 900 "$colour"
}
