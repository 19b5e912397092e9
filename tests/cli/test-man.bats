#!/usr/bin/env bats
# ktstr-test(1) against the code: what the page says ktstr-test writes is
# what it writes, checked on the rendered page so the two cannot drift
# apart.

load cli

setup() {
	common_setup
	TOP=$BATS_TEST_DIRNAME/../..
	PAGE=$TOP/man/ktstr-test.1
}
teardown() { common_teardown; }


@test "ktstr-test(1): --html names the timeline picture it writes for each case and embeds" {
	# The code: ktstr-stats --svg draws DIR/cases/STEM.svg, which the
	# page shows in the case's row as its plot.
	grep -q 'xasprintf("cases/%s.svg", stem)' "$TOP/lib/runner/suite_html.c"
	grep -q '"--svg=%s", svg' "$TOP/lib/runner/suite_html.c"
	grep -q 'c->plot = keep(h, svg_rel)' "$TOP/lib/runner/suite_html.c"
	grep -q '<img class=\\"plot\\"' "$TOP/lib/results/html_report.c"
	text=$(man_entry '--html dir')
	echo "$text"
	[ -n "$text" ]
	[[ "$text" == *"its timeline as an SVG picture (ktstr-stats --svg:"* ]]
	[[ "$text" == *"which the page embeds in the case's row"* ]]
	# --help says it too.
	run ktstr-test --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"trace and timeline"*"picture (.svg, shown on the page) in DIR/cases/"* ]]
}
