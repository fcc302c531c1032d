# bench/latency.sh - sourced by the benchmarks (after tests/rig/rig.sh):
# delivery-to-CUPS latency of a running daemon.
#
#   bench_latency N DELIVER FILE    deliver FILE N times with the command
#                                   DELIVER (e.g. "rig_deliver alice" or
#                                   "rig_lmtp alice"), each time measuring
#                                   the ms until CUPS has one more job;
#                                   prints "median M, worst W, best B" (ms)
bench_cups_jobs() {	# every job CUPS has for the queue, any state
	rig_cups lpstat -W all -o "$RIG_QUEUE" 2>/dev/null | wc -l
}
bench_now_ms() { date +%s%3N; }

bench_latency() {
	local n=$1 deliver=$2 file=$3 i before t0 lat=()
	for i in $(seq "$n"); do
		before=$(bench_cups_jobs)
		t0=$(bench_now_ms)
		$deliver "$file"
		while [ "$(bench_cups_jobs)" -le "$before" ]; do
			[ $(( $(bench_now_ms) - t0 )) -gt 30000 ] && { echo "no job after 30 s" >&2; break; }
			sleep 0.01
		done
		lat+=($(( $(bench_now_ms) - t0 )))
		sleep 0.3
	done
	printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {
		printf "median %s, worst %s, best %s", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), a[NR], a[1] }'
}
