#!/usr/bin/env bash
# `make run`: start pollux_tgt on etc/demo.json and show it serving JSON-RPC.
# On a terminal it then keeps serving until Ctrl-C; otherwise it stops after the demo.
set -euo pipefail
BUILD=${1:-build}
SOCK=${POLLUX_SOCK:-/var/tmp/pollux.sock}
TGT=$BUILD/app/pollux_tgt/pollux_tgt
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
RPC="$PYTHON scripts/rpc.py -s $SOCK"
out=$(mktemp)

"$TGT" -m 0x3 -r "$SOCK" --json etc/demo.json >"$out" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do
	grep -q ready "$out" && break
	kill -0 $pid 2>/dev/null || { echo "pollux_tgt failed to start" >&2; exit 1; }
	sleep 0.1
done
cat "$out"
show() { echo; echo "\$ scripts/rpc.py $*"; $RPC "$@"; }
show spdk_get_version
show framework_get_reactors
show thread_get_pollers
show bdev_get_bdevs -b Malloc0
show bdev_get_iostat
show nvmf_get_subsystems
show save_config
echo
if [ -t 0 ]; then
	echo "pollux_tgt (pid $pid) is serving on $SOCK: try 'scripts/rpc.py -s $SOCK rpc_get_methods'."
	echo "Press Ctrl-C to stop it."
	trap 'echo; echo stopping' INT
	wait $pid || true
else
	echo "demo done; stopping pollux_tgt"
fi
