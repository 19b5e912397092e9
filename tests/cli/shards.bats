#!/usr/bin/env bats
# CI fleets without a VM: ktstr-test --shard auto from each CI engine's
# variables (and its refusals), ktstr-stats reading several runs roots as
# one history (list, show, junit, compare), and the contrib/ci recipes'
# structure.  The merge of real shard runs: tests/runner.bats.

load cli
load ../lib/runner

BIN=${KTSTR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}
FIX="$BATS_TEST_DIRNAME/../fixtures"
CONTRIB="$BATS_TEST_DIRNAME/../../contrib/ci"

setup_file() { fake_entry_setup_file; }

setup() {
	common_setup
	KERNEL=$FAKE_IMAGE
	runner_env
	fake_scx_simple
	unset KTSTR_SHARD KTSTR_SHARD_INDEX KTSTR_SHARD_TOTAL KTSTR_RUN_ID \
		CI_NODE_INDEX CI_NODE_TOTAL CI_PIPELINE_ID JOB_COMPLETION_INDEX \
		SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
		SLURM_ARRAY_TASK_STEP SLURM_ARRAY_JOB_ID GITHUB_RUN_ID GITHUB_RUN_ATTEMPT
}

teardown() {
	common_teardown
}

suite_list() {
	ktest --list "$@" "$FIX/suite" "$FIX/suite-extra"
}

@test "shard auto: each engine's index picks the shard --shard K/N does" {
	suite_list --shard 2/3 >"$TEST_TMP/want"
	[ -s "$TEST_TMP/want" ]
	KTSTR_SHARD_INDEX=2 KTSTR_SHARD_TOTAL=3 suite_list --shard auto \
		2>"$TEST_TMP/err" | diff "$TEST_TMP/want" -
	grep -qx 'ktstr-test: shard 2 of 3 (from KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL)' "$TEST_TMP/err"
	CI_NODE_INDEX=2 CI_NODE_TOTAL=3 suite_list --shard auto \
		2>"$TEST_TMP/err" | diff "$TEST_TMP/want" -
	grep -q '(from GitLab CI_NODE_INDEX/CI_NODE_TOTAL)' "$TEST_TMP/err"
	JOB_COMPLETION_INDEX=1 KTSTR_SHARD_TOTAL=3 suite_list --shard auto \
		2>"$TEST_TMP/err" | diff "$TEST_TMP/want" -
	grep -q '(from Kubernetes JOB_COMPLETION_INDEX/KTSTR_SHARD_TOTAL)' "$TEST_TMP/err"
	SLURM_ARRAY_TASK_ID=11 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=3 \
		suite_list --shard auto 2>"$TEST_TMP/err" | diff "$TEST_TMP/want" -
	grep -q '(from Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)' "$TEST_TMP/err"
	# KTSTR_SHARD=auto does it too; a flag wins over the variable.
	CI_NODE_INDEX=2 CI_NODE_TOTAL=3 KTSTR_SHARD=auto suite_list | diff "$TEST_TMP/want" -
	KTSTR_SHARD=1/3 suite_list --shard 2/3 | diff "$TEST_TMP/want" -
	KTSTR_SHARD=2/3 suite_list | diff "$TEST_TMP/want" -
}

@test "shard: --list --json leads with the shard record, as a run does" {
	run --separate-stderr suite_list --json --shard 1/2
	[ "$status" -eq 0 ]
	jq -e -s '.[0] | .type == "shard" and .index == 1 and .total == 2 and
		.source == "--shard" and .run_id == null and .run_id_source == "new"' <<<"$output"
	jq -e -s '.[1:] | length > 0 and all(.type == "case_plan")' <<<"$output"
	CI_NODE_INDEX=2 CI_NODE_TOTAL=2 CI_PIPELINE_ID=77 run --separate-stderr \
		suite_list --json --shard auto
	[ "$status" -eq 0 ]
	jq -e -s '.[0] | .type == "shard" and .index == 2 and .run_id == "gitlab-77" and
		.run_id_source == "CI_PIPELINE_ID"' <<<"$output"
	# No shard, no record.
	run --separate-stderr suite_list --json
	jq -e -s 'all(.type == "case_plan")' <<<"$output"
}

@test "shard auto: no index, or values that disagree, is one line and exit 2" {
	run --separate-stderr ktest --list --shard auto "$FIX/suite"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"no shard index found"*"set KTSTR_SHARD_INDEX and KTSTR_SHARD_TOTAL"* ]]
	CI_NODE_INDEX=1 CI_NODE_TOTAL=3 KTSTR_SHARD_TOTAL=4 \
		run --separate-stderr ktest --list --shard auto "$FIX/suite"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"KTSTR_SHARD_TOTAL=4 disagrees with 3 shards from GitLab"* ]]
	JOB_COMPLETION_INDEX=0 run --separate-stderr ktest --list --shard auto "$FIX/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"JOB_COMPLETION_INDEX is set but KTSTR_SHARD_TOTAL is not"* ]]
	KTSTR_SHARD=auto run --separate-stderr ktest --list "$FIX/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-test: KTSTR_SHARD=auto: no shard index found"* ]]
	KTSTR_SHARD=4/3 run --separate-stderr ktest --list "$FIX/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ktstr-test: KTSTR_SHARD=4/3: K must be between 1 and N"* ]]
}

@test "shard: a bad KTSTR_RUN_ID or several roots to write to is exit 2 before any VM" {
	KTSTR_RUN_ID='../up' run --separate-stderr ktest "$FIX/suite"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-test "$stderr"
	[[ "$stderr" == *"KTSTR_RUN_ID='../up': expected 1 to 64 letters"* ]]
	KTSTR_RUNS_ROOT="$TEST_TMP/a:$TEST_TMP/b" run --separate-stderr ktest "$FIX/suite"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"names several roots; ktstr test writes to one"* ]]
	assert_no_qemu
}

# A fixture run split file by file over three roots, as three shards
# write it, plus an unrelated run in one of them.
split_run() {
	local run=6.14.2-aaaaaaaaaaaa i=0 f
	mkdir -p "$TEST_TMP/one" "$TEST_TMP"/s{1,2,3}/$run "$TEST_TMP/s2/6.14.2-bbbbbbbbbbbb"
	cp -r "$FIX/runs/$run" "$TEST_TMP/one/"
	for f in "$FIX/runs/$run"/*.ktstr.json; do
		cp "$f" "$TEST_TMP/s$((i % 3 + 1))/$run/"
		i=$((i + 1))
	done
	cp "$FIX/runs/6.14.2-bbbbbbbbbbbb"/*.ktstr.json "$TEST_TMP/s2/6.14.2-bbbbbbbbbbbb/"
	cp -r "$FIX/runs/6.14.2-bbbbbbbbbbbb" "$TEST_TMP/one/"
}

@test "stats: three roots (repeated --dir or KTSTR_RUNS_ROOT=A:B:C) read as one history" {
	split_run
	S=$TEST_TMP/s
	ks() { "$BIN/ktstr-stats" "$@"; }
	# JSON records name the first root's directory: paths aside, the same.
	ks list --dir "$TEST_TMP/one" --json | jq -c 'del(.path)' >"$TEST_TMP/want"
	ks list --dir "$S"1 --dir "$S"2 --dir "$S"3 --json >"$TEST_TMP/got"
	jq -c 'del(.path)' "$TEST_TMP/got" | diff "$TEST_TMP/want" -
	jq -e -s 'length == 2 and .[1].tests == 4' "$TEST_TMP/got"
	KTSTR_RUNS_ROOT="$S"1:"$S"2:"$S"3 ks list --json | jq -c 'del(.path)' |
		diff "$TEST_TMP/want" -
	ks list --dir "$TEST_TMP/one" --table >"$TEST_TMP/want"
	KTSTR_RUNS_ROOT="$S"3:"$S"1:"$S"2 ks list --table | diff "$TEST_TMP/want" -
	ks show 6.14.2-aaaaaaaaaaaa --json --dir "$TEST_TMP/one" | jq -c 'del(.path)' >"$TEST_TMP/want"
	KTSTR_RUNS_ROOT="$S"2:"$S"3:"$S"1 ks show 6.14.2-aaaaaaaaaaaa --json |
		jq -c 'del(.path)' | diff "$TEST_TMP/want" -
	for sub in "show 6.14.2-aaaaaaaaaaaa --table" \
		"junit 6.14.2-aaaaaaaaaaaa" "compare 6.14.2-aaaaaaaaaaaa 6.14.2-bbbbbbbbbbbb --all"; do
		ks $sub --dir "$TEST_TMP/one" >"$TEST_TMP/want"
		KTSTR_RUNS_ROOT="$S"2:"$S"3:"$S"1 ks $sub >"$TEST_TMP/got"
		diff "$TEST_TMP/want" "$TEST_TMP/got"
	done
	# The JUnit: one testcase per sidecar, valid XML, written atomically with -o.
	ks junit 6.14.2-aaaaaaaaaaaa --dir "$S"1 --dir "$S"2 --dir "$S"3 -o "$TEST_TMP/j.xml"
	python3 -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
cases = r.findall(".//testcase")
assert r.get("tests") == "4" and len(cases) == 4, (r.attrib, len(cases))
assert all(c.get("classname") and c.get("name") and c.get("time") for c in cases)' "$TEST_TMP/j.xml"
	[ -z "$(ls -A "$TEST_TMP" | grep '^\.')" ]
}

@test "stats: a shard's sidecar in two roots is read once, a missing root is an error" {
	split_run
	S=$TEST_TMP/s
	cp "$S"1/6.14.2-aaaaaaaaaaaa/*.json "$S"2/6.14.2-aaaaaaaaaaaa/
	"$BIN/ktstr-stats" show 6.14.2-aaaaaaaaaaaa --dir "$TEST_TMP/one" --json |
		jq -c 'del(.path)' >"$TEST_TMP/want"
	run --separate-stderr "$BIN/ktstr-stats" show 6.14.2-aaaaaaaaaaaa --dir "$S"1 \
		--dir "$S"2 --dir "$S"3 --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -c 'del(.path)' | diff "$TEST_TMP/want" -
	[[ "$stderr" == *"is in another root too; read once"* ]]
	# list counts them as show reads them: once, also for a root given twice
	want=$(ls "$TEST_TMP"/one/6.14.2-aaaaaaaaaaaa/*.ktstr.json | wc -l)
	for roots in "$S"1:"$S"2:"$S"3 "$S"1:"$S"2:"$S"3:"$S"1 "$TEST_TMP/one:$TEST_TMP/one"; do
		KTSTR_RUNS_ROOT=$roots run --separate-stderr "$BIN/ktstr-stats" list --json
		[ "$status" -eq 0 ]
		[ "$(jq -r 'select(.dir == "6.14.2-aaaaaaaaaaaa") | .tests' <<<"$output")" -eq "$want" ]
	done
	run --separate-stderr "$BIN/ktstr-stats" list --dir "$S"1 --dir "$TEST_TMP/nope"
	[ "$status" -eq 2 ]
	assert_one_line_error ktstr-stats "$stderr"
	[[ "$stderr" == *"runs root '$TEST_TMP/nope' (from --dir) does not exist"* ]]
	run --separate-stderr "$BIN/ktstr-stats" list --output x
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--output applies to junit"* ]]
}

@test "stats: clean with several roots cleans each" {
	split_run
	S=$TEST_TMP/s
	run "$BIN/ktstr-stats" clean --keep 0 --dir "$S"1 --dir "$S"2 --table
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed run 6.14.2-aaaaaaaaaaaa"*"removed run 6.14.2-aaaaaaaaaaaa"* ]]
	[ -z "$(ls "$S"1)" ]
	[ -z "$(ls "$S"2)" ]
	[ -n "$(ls "$S"3)" ]
}

# The recipes are YAML of the shape their engine reads; the Debian
# tools: python3-yaml for the parse, the checks here for the structure.
@test "contrib/ci: GitLab, Kubernetes and GitHub recipes parse and shard with --shard auto" {
	python3 "$BATS_TEST_DIRNAME/../lib/check-ci-recipes.py" "$CONTRIB"
}

@test "contrib/ci: the recipe check refuses a wrong total and a duplicate key" {
	mkdir -p "$TEST_TMP/ci"
	cp "$CONTRIB"/*.y*ml "$TEST_TMP/ci/"
	sed -i 's/value: "3"  /value: "4"  /' "$TEST_TMP/ci/kubernetes-job.yaml"
	run python3 "$BATS_TEST_DIRNAME/../lib/check-ci-recipes.py" "$TEST_TMP/ci"
	[ "$status" -eq 1 ]
	[[ "$output" == *"KTSTR_SHARD_TOTAL equals completions"* ]]
	cp "$CONTRIB/kubernetes-job.yaml" "$TEST_TMP/ci/"
	sed -i 's/^  parallel: 3$/  parallel: 3\n  parallel: 4/' "$TEST_TMP/ci/gitlab-ci.yml"
	run python3 "$BATS_TEST_DIRNAME/../lib/check-ci-recipes.py" "$TEST_TMP/ci"
	[ "$status" -eq 1 ]
	[[ "$output" == *"duplicate key 'parallel'"* ]]
}

# Real sidecars without a VM: a suite whose cases are plan-time skips
# (no preset fits), run as GitLab shards of one pipeline.
@test "shard auto: GitLab shards share the pipeline's run id; the roots list as one run" {
	mkdir -p "$TEST_TMP/skips"
	for t in one two three; do
		cp "$FIX/suite-extra/huge.json" "$TEST_TMP/skips/$t.json"
	done
	export KTSTR_PROJECT_COMMIT=abc123 CI_PIPELINE_ID=4242 CI_NODE_TOTAL=3
	for k in 1 2 3; do
		CI_NODE_INDEX=$k KTSTR_RUNS_ROOT="$TEST_TMP/r$k" \
			run --separate-stderr ktest --shard auto --json "$TEST_TMP/skips"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"run id gitlab-4242 (from CI_PIPELINE_ID, shared by the shards)"* ]]
		jq -e -s --argjson k "$k" 'map(select(.type == "shard"))[0] | .index == $k and
			.source == "GitLab CI_NODE_INDEX/CI_NODE_TOTAL" and .run_id == "gitlab-4242"' \
			<<<"$output"
	done
	# The same id again in a root that has it: refused, nothing replaced.
	CI_NODE_INDEX=1 KTSTR_RUNS_ROOT="$TEST_TMP/r1" \
		run --separate-stderr ktest --shard auto "$TEST_TMP/skips"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"already exists (run ids must be unique; nothing was replaced)"* ]]
	run "$BIN/ktstr-stats" list --dir "$TEST_TMP/r1" --dir "$TEST_TMP/r2" \
		--dir "$TEST_TMP/r3" --json
	[ "$status" -eq 0 ]
	jq -e -s 'length == 1 and .[0].run == "gitlab-4242" and .[0].tests == 3' <<<"$output"
	run "$BIN/ktstr-stats" junit gitlab-4242 --dir "$TEST_TMP/r1" --dir "$TEST_TMP/r2" \
		--dir "$TEST_TMP/r3"
	[ "$status" -eq 0 ]
	[ "$(grep -c '<skipped' <<<"$output")" -eq 3 ]
	# Not a shard: the pipeline's id is not taken (two runs stay apart).
	KTSTR_RUNS_ROOT="$TEST_TMP/r4" run --separate-stderr ktest --json "$TEST_TMP/skips"
	[ "$status" -eq 0 ]
	jq -e -s '[.[] | select(.type == "test_summary")][0].run_id | test("^[0-9]{8}T")' <<<"$output"
	assert_no_qemu
}
