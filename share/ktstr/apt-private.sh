# shellcheck shell=bash
# Private apt state for fetching Debian packages into the ktstr cache.
#
# Sourced by fetch-debian-kernel and build-schedulers.  apt runs with its own
# sources list, package lists, dpkg status and archive cache under the ktstr
# cache, so the host's apt configuration, lists and dpkg database are never
# read or touched, and a suite the host must not install from (trixie) can be
# used for `apt-get download` only.  Nothing is ever installed.
#
# The caller defines die MESSAGE (print "PROG: MESSAGE" on stderr, exit 2)
# and runs with `set -euo pipefail`.
#
#   ktstr_cache_subdir VAR NAME HIDDEN
#       VAR := $KTSTR_CACHE_DIR/HIDDEN when KTSTR_CACHE_DIR is set (HIDDEN may
#       be empty: the directory itself), else
#       ${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/NAME.
#   apt_private_dirs
#       suite, mirror and adir (the apt state directory; not created).
#   apt_private_lock FD [WHAT]
#       take $adir/.lock on descriptor FD (waits up to 600 s).  Every apt
#       run against $adir must hold it: the state is not shareable.
#   apt_private_init
#       create the state layout and sources.list under $adir and set the
#       apt_opts array for apt-get/apt-cache.  Call with the lock held.
#   apt_private_update
#       apt-get update into $adir, at most once a day.
#   apt_private_version PKG
#       print PKG's candidate version in the private lists (empty if none).
#
# Environment: KTSTR_DEBIAN_SUITE (default trixie-backports),
# KTSTR_DEBIAN_MIRROR (default http://deb.debian.org/debian).
# shellcheck disable=SC2154 # adir is set through printf -v

ktstr_cache_subdir() {
	local _var=$1 _name=$2 _hidden=$3 _root
	if [ -n "${KTSTR_CACHE_DIR:-}" ]; then
		printf -v "$_var" '%s' "$KTSTR_CACHE_DIR${_hidden:+/$_hidden}"
	else
		_root=${XDG_CACHE_HOME:-}
		[ -n "$_root" ] || _root=${HOME:?HOME is unset; set XDG_CACHE_HOME or KTSTR_CACHE_DIR}/.cache
		printf -v "$_var" '%s' "$_root/ktstr/$_name"
	fi
}

apt_private_dirs() {
	suite=${KTSTR_DEBIAN_SUITE:-trixie-backports}
	mirror=${KTSTR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	ktstr_cache_subdir adir apt .apt
}

apt_private_lock() {
	local fd=$1 what=${2:-fetch}
	eval "exec $fd>\"\$adir/.lock\""
	flock -w 600 "$fd" || die "timed out waiting for $adir/.lock held by another $what"
}

apt_private_init() {
	mkdir -p "$adir/etc/apt.conf.d" "$adir/etc/preferences.d" "$adir/etc/sources.list.d" \
		"$adir/state/lists/partial" "$adir/cache/archives/partial" "$adir/deb"
	: >"$adir/status"
	cat >"$adir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main
SRC
	apt_opts=(
		-o "Dir::Etc::SourceList=$adir/etc/sources.list"
		-o "Dir::Etc::SourceParts=$adir/etc/sources.list.d"
		-o "Dir::Etc::Parts=$adir/etc/apt.conf.d"
		-o "Dir::Etc::Preferences=$adir/etc/preferences"
		-o "Dir::Etc::PreferencesParts=$adir/etc/preferences.d"
		-o "Dir::State=$adir/state"
		-o "Dir::State::status=$adir/status"
		-o "Dir::Cache=$adir/cache"
		-o "APT::Get::List-Cleanup=0"
		-o "Debug::NoLocking=1"
	)
}

apt_private_update() {
	# Refresh the package list at most once a day.  --error-on=any: an
	# index that could not be fetched fails the update (apt otherwise
	# warns and exits 0), so an unreachable mirror is reported as one and
	# is not remembered as a good update for a day.
	local lists_stamp=$adir/state/.updated
	if [ -z "$(find "$lists_stamp" -mmin -1440 2>/dev/null)" ]; then
		apt-get "${apt_opts[@]}" -q --error-on=any update >"$adir/update.log" 2>&1 ||
			die "apt-get update for $suite failed (see $adir/update.log); is $mirror reachable?"
		touch "$lists_stamp"
	fi
}

apt_private_version() {
	apt-cache "${apt_opts[@]}" policy "$1" 2>/dev/null |
		sed -n 's/^  Candidate: //p' | grep -v '^(none)$' || true
}
