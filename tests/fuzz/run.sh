#!/usr/bin/env bash
# Runs every fuzz target in BUILD for SECONDS each, on its seed corpus (tests/fuzz/corpus/<target>,
# which holds every input that once broke the appliance) plus what earlier runs found
# (BUILD/corpus/<target>), two targets at a time. Prints executions per second; exits 1 when a
# target crashed, whose input is kept in BUILD/crashes/ and named in the output.
# Usage: run.sh BUILD SECONDS [TARGET...]
set -uo pipefail
build=$(cd "${1:?build dir}" && pwd); seconds=${2:?seconds}; shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(cd "$build/tests/fuzz" && ls fuzz_* | grep -v '\.' ))
mkdir -p "$build/crashes"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
printf '%-28s %10s %12s %8s\n' target seconds executions exec/s
# Two targets at a time (the machine's two cores); each prints its line when it ends.
run_one() {
  local t="$1" bin="$build/tests/fuzz/$1" seeds="$here/corpus/$1" work="$build/corpus/$1"
  local log="$build/crashes/$1.log" rc runs
  mkdir -p "$work" "$seeds"
  # -timeout: one input taking over 10 s is a hang, and a finding.
  (cd "$build/crashes" && timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" "$work" "$seeds" >"$log" 2>&1)
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  runs=${runs:-0}
  printf '%-28s %10s %12s %8s\n' "$t" "$seconds" "$runs" "$((runs / (seconds > 0 ? seconds : 1)))"
  if [ $rc -ne 0 ]; then
    { echo "FAILED: $t (exit $rc); its log: $log"
      grep -E 'ERROR|SUMMARY|Test unit written|artifact' "$log" | head -20; } >&2
    return 1
  fi
}
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
