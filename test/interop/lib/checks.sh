# SPDX-License-Identifier: BSD-3-Clause
# Check reporting shared by the host side (host-lib.sh) and the guest side (guest-lib.sh).
# The sourcing file sets RESULTS (the file run.sh counts) and LOG_PREFIX (prepended to lines
# shown on the console) first.
#
#   ok NAME / not_ok NAME [DETAIL] / skip NAME REASON   report one check
#   check NAME CMD...          run CMD; ok if it exits 0, else not_ok with the tail of its output
#   wait_until SECONDS CMD...  poll CMD until it succeeds (returns 1 on timeout)
#   bdevperf_ok LOG            judge bdevperf's output: prints why not and fails, or succeeds

_report() {
	echo "$LOG_PREFIX$1"
	echo "$1" >>"$RESULTS"
}

ok() { _report "ok - $1"; }

not_ok() {
	local name=$1
	shift
	_report "not ok - $name${1:+: $*}"
}

skip() {
	local name=$1
	shift
	_report "skip - $name: ${*:-no reason given}"
}

check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name" "'$*' exited $rc"
	[ -n "$out" ] && printf '%s\n' "$out" | tail -n 20 | sed "s/^/$LOG_PREFIX    /"
	return 1
}

wait_until() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# bdevperf_ok LOG: bdevperf's Total row shows non-zero IOPS and no failed or timed-out I/O,
# and no block read back differed from what was written.
bdevperf_ok() {
	awk '
		/^Total +:/ { total = 1; iops = $3 + 0; fails = $5 + 0; tos = $6 + 0 }
		/^verify failed/ { miscompares++ }
		END {
			if (!total) { print "no Total row"; exit 1 }
			if (miscompares) { print miscompares " verify miscompares"; exit 1 }
			if (iops <= 0) { print "Total IOPS is " iops; exit 1 }
			if (fails > 0) { print "failed I/O: " fails "/s"; exit 1 }
			if (tos > 0) { print "timed-out I/O: " tos "/s"; exit 1 }
		}' "$1"
}
