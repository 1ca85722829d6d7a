# SPDX-License-Identifier: BSD-3-Clause
# Helpers for a scenario's host_setup / host_run / host_finish (bash, on the host). Sourced by
# run.sh in the scenario's subshell, where RUN (the scenario's work folder), XFER (the folder
# the guest sees as /xfer), NAME and the PORT_* variables are set.
#
#   ok / not_ok / skip / check / wait_until     as in guest-lib.sh, results in $RUN/host-results
#   run_checks NAME CMD...      run CMD, which prints its own "ok - X" / "not ok - X" lines;
#                               record them, and fail NAME if CMD exits non-zero without one
#   start_daemon LABEL CMD...   start a helper in the background; its output goes to
#                               $RUN/LABEL.log; it is killed when the scenario ends
#   cleanup_path PATH           remove PATH when the scenario ends (sockets outside $RUN; a
#                               folder is removed only if empty, after the paths before it)
#   tell_guest EVENT / wait_guest EVENT [SECONDS]   meet guest_main through $XFER

RESULTS="$RUN/host-results"
LOG_PREFIX="[$NAME host] "
# shellcheck source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"


run_checks() {
	local name=$1 line failed=0 rc
	shift
	while IFS= read -r line; do
		case $line in
		"ok - "* | "skip - "*) _report "$line" ;;
		"not ok - "*) _report "$line" && failed=1 ;;
		*) echo "[$NAME host]     $line" ;;
		esac
	done < <("$@" 2>&1)
	wait $! 2>/dev/null
	rc=$?
	[ $rc -eq 0 ] || [ $failed = 1 ] || not_ok "$name" "'$*' exited $rc"
	[ $rc -eq 0 ] && [ $failed = 0 ]
}

start_daemon() {
	local label=$1
	shift
	"$@" </dev/null >"$RUN/$label.log" 2>&1 &
	echo "$! $label" >>"$RUN/daemons"
}

cleanup_path() { echo "$1" >>"$RUN/cleanup-paths"; }

tell_guest() { : >"$XFER/host-$1"; }

wait_guest() { wait_until "${2:-60}" test -e "$XFER/guest-$1"; }
