#!/bin/sh
# ktstr: dispatcher.  "ktstr vm ARGS" runs "ktstr-vm ARGS", looked up first
# next to this script, then in PATH (so a build tree works uninstalled).
prog=ktstr
here=$(dirname "$(readlink -f "$0")")

usage() {
	cat <<USAGE
usage: ktstr <command> [args...]
       ktstr help | --help | --version

Commands are the ktstr-* programs; run 'ktstr help' to list those installed
and 'ktstr <command> --help' for each one's options.
USAGE
}

find_cmd() {
	if [ -x "$here/ktstr-$1" ]; then
		printf '%s\n' "$here/ktstr-$1"
	else
		command -v "ktstr-$1" 2>/dev/null
	fi
}

list_cmds() {
	{
		for f in "$here"/ktstr-*; do [ -x "$f" ] && basename "$f"; done
		IFS=:
		for d in $PATH; do
			for f in "$d"/ktstr-*; do [ -x "$f" ] && basename "$f"; done
		done
	} 2>/dev/null | sed 's/^ktstr-//' | sort -u
}

# Print $2 on stdout, or say why it could not be and exit 2, as the
# programs do; a closed pipe ends it quietly with 128+SIGPIPE.  Through
# cat, whose message has the reason (dash's printf says "I/O error").
out() {
	local err
	{ err=$(printf '%s\n' "$2" | cat 2>&1 >&3); } 3>&1 && return 0
	[ -n "$err" ] || exit 141
	echo "$prog: cannot write the $1 to stdout: ${err##*: }" >&2
	exit 2
}

case "${1:-}" in
"" )
	usage >&2
	exit 2 ;;
help | -h | --help )
	out help "$(usage; echo; echo "available commands:"; list_cmds | sed 's/^/  /')"
	exit 0 ;;
--version )
	out version "ktstr (ktstr) @VERSION@"
	exit 0 ;;
-* )
	echo "$prog: unknown option '$1' (see '$prog --help')" >&2
	exit 2 ;;
esac

sub=$1
shift
case "$sub" in
*[!a-z0-9-]* )
	echo "$prog: '$sub' is not a command name (see '$prog --help')" >&2
	exit 2 ;;
esac
cmd=$(find_cmd "$sub")
if [ -z "$cmd" ]; then
	echo "$prog: unknown command '$sub' (see '$prog --help')" >&2
	exit 2
fi
exec "$cmd" "$@"
