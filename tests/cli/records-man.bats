#!/usr/bin/env bats
# ktstr-records(7) against the code: every record type the programs make
# has an entry, and the records the VM-free programs print (ktstr-fetch,
# ktstr-build, ktstr-stats --list-checks) have every field in it.

load cli

setup() {
	common_setup
	TOP=$BATS_TEST_DIRNAME/../..
	PAGE=$TOP/man/ktstr-records.7
	export KTSTR_CACHE_DIR="$TEST_TMP/kernels"
}
teardown() { common_teardown; }

# The roff source of the entry of record type $1: its tag (".TP" then
# ".B type" or ".BR type ...") up to the next entry or section.
entry() {
	awk -v t="$1" '
		on && /^\.(TP|SH|SS)/ { exit }
		on { print }
		prev == ".TP" && /^\.BR? / { w = $2; gsub(/"/, "", w); if (w == t) on = 1 }
		{ prev = $0 }' "$PAGE"
}

# Every field of the records of type $1 in the JSON lines $2 is named in
# bold in the type's entry; prints the missing ones.
undocumented() {
	local text k
	text=$(entry "$1")
	[ -n "$text" ] || { echo "$1: no entry"; return; }
	for k in $(jq -r --arg t "$1" 'select(.type == $t) | keys[] | select(. != "type")' <<<"$2" | sort -u); do
		grep -qE "^\.(B|BR|RB|IB|BI) (.*[ \"(])?$k([ \",);.]|\$)" <<<"$text" || echo "$1.$k"
	done
}

@test "ktstr-records(7): every record type the code makes has an entry" {
	local types entries missing
	types=$(grep -rhoE 'jsonl_record\("[a-z_0-9]+"\)' "$TOP"/cmd "$TOP"/lib "$TOP"/guest \
		"$TOP"/libexec | sed -E 's/.*\("(.*)"\)/\1/' | sort -u)
	[ "$(wc -l <<<"$types")" -ge 70 ]
	entries=$(awk 'prev == ".TP" && /^\.BR? / { w = $2; gsub(/"/, "", w); print w }
		{ prev = $0 }' "$PAGE" | sort -u)
	missing=$(comm -23 <(printf '%s\n' "$types") <(printf '%s\n' "$entries") | tr '\n' ' ')
	echo "no entry in ktstr-records(7): $missing"
	[ -z "$missing" ]
}

@test "ktstr-records(7): source, release, kernel, cache_entry, cache_removed and check_def fields" {
	local src=$TEST_TMP/src recs=
	cp -r "$BATS_TEST_DIRNAME/../fixtures/fake-kernel" "$src"
	run --separate-stderr bash -c "ktstr-fetch '$src' | ktstr-build"
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output")" = kernel ]
	recs+=$output$'\n'
	recs+=$(ktstr-fetch "$src")$'\n'
	recs+=$(ktstr-fetch --list "$src")$'\n'
	recs+=$(ktstr-fetch "$(jq -r .key <<<"$output")")$'\n'
	mkdir "$KTSTR_CACHE_DIR/broken"
	recs+=$(ktstr-build list 2>/dev/null)$'\n'
	recs+=$(ktstr-build clean --keep 0)$'\n'
	recs+=$(ktstr-stats --list-checks --json)
	# Each kind the run made: a path and a cache source, a valid and a
	# corrupt entry, both removed.
	[ "$(jq -r 'select(.type == "source") | .kind' <<<"$recs" | tr '\n' ' ')" = "path cache " ]
	[ "$(jq -r 'select(.type == "cache_entry") | .status' <<<"$recs" | sort | tr '\n' ' ')" = "corrupt valid " ]
	[ "$(jq -r 'select(.type == "cache_removed") | .key' <<<"$recs" | wc -l)" -eq 2 ]
	for t in source release kernel cache_entry cache_removed check_def; do
		jq -se --arg t "$t" 'any(.type == $t)' <<<"$recs" >/dev/null
	done
	missing=
	for t in source release kernel cache_entry cache_removed check_def; do
		run undocumented "$t" "$recs"
		missing+=${output:+$output }
	done
	echo "not in their entries of ktstr-records(7): $missing"
	[ -z "$missing" ]
}
