#!/usr/bin/env bash
# fuzz.sh BINARY NAME WORKDIR [libFuzzer flags...] -- SEED...: fuzzes one target for
# ${TRANSIT_FUZZ_SECONDS:-20} seconds, starting from the seeds (directories are read, never
# written; files are seed inputs), in a fresh working corpus under WORKDIR. Every seed runs first,
# so a regression input under tests/fuzz/corpus/NAME that crashes again fails at once. Prints one
# summary line (execs, speed, coverage); on a crash, where the input was saved.
set -euo pipefail
binary=$1 name=$2 work=$3
shift 3
flags=()
while (($# > 0)) && [[ $1 != -- ]]; do
  flags+=("$1")
  shift
done
shift || true
dirs=() files=()
for seed in "$@"; do
  if [[ -d $seed ]]; then dirs+=("$seed"); else files+=("$seed"); fi
done
seconds=${TRANSIT_FUZZ_SECONDS:-20}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
if ((${#files[@]} > 0)); then
  cp "${files[@]}" "$work/corpus/"
fi
log=$work/fuzz.log
status=0
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "${flags[@]}" "$work/corpus" "${dirs[@]}" >"$log" 2>&1 ||
  status=$?
stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
execs=$(stat number_of_executed_units)
speed=$(stat average_exec_per_sec)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
units=$(find "$work/corpus" -type f | wc -l)
printf 'fuzz %s: %s execs in %ss (%s/s), coverage %s edges, %s features, working corpus %s inputs\n' \
  "$name" "${execs:-?}" "$seconds" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$units"
if ((status != 0)); then
  tail -n 60 "$log"
  echo "fuzz $name: FAILED (exit $status); inputs kept in $work/artifacts:" >&2
  ls -l "$work/artifacts" >&2
  echo "Add the input to tests/fuzz/corpus/$name/ as a regression input, and fix the code." >&2
  exit 1
fi
