#!/usr/bin/env bash
# oclgrind_run.sh [--no-uninitialized] [--known-chan-sum] PROGRAM [ARGS...]: runs a test
# program on Oclgrind with its checks for uninitialized values, data races, out-of-bounds
# accesses and API misuse. Fails when the program fails or Oclgrind reports anything,
# but for what docs/reliability.md shows to be Oclgrind's own mistakes:
#   --no-uninitialized  leaves out the uninitialized-value check, for the strided host
#                       calls, whose staging Oclgrind 21.10 takes for uninitialized after
#                       clEnqueueWriteBufferRect has written all of it;
#   --known-chan-sum    drops the uninitialized-value reports of lrelu_chan_sum_* and
#                       lrelu_chan_sumg_* (which copies the sums to local memory) alone,
#                       values written or (f16 and bf16's rounding) branched on:
#                       Oclgrind 21.10 keeps the shadow size of a released buffer for the
#                       next buffer that takes its number, so the block sums' scratch may
#                       look unwritten past that size (the block sums' poisoned tests show
#                       every sum is written before it is read).
#   --beside-pocl       runs the program with Oclgrind as a platform of its own beside
#                       PoCL's (an ICD of its own, its checks turned on through the
#                       environment), for device groups over both.
# Exits 77 (skip) where oclgrind is not installed.
set -euo pipefail
checks=(--uninitialized --data-races --check-api)
known_chan_sum=0
beside=0
while [ $# -gt 0 ]; do
    case $1 in
    --no-uninitialized) checks=(--data-races --check-api) ;;
    --known-chan-sum) known_chan_sum=1 ;;
    --beside-pocl) beside=1 ;;
    *) break ;;
    esac
    shift
done
command -v oclgrind >/dev/null || { echo "oclgrind_run: oclgrind is not installed" >&2; exit 77; }
log=$(mktemp)
vendors=$(mktemp -d)
trap 'rm -rf "$log" "$vendors"' EXIT
rc=0
if [ "$beside" = 1 ]; then
    icd=$(ls /usr/lib/oclgrind/liboclgrind-rt-icd.so /usr/lib/*/oclgrind/liboclgrind-rt-icd.so \
        2>/dev/null | head -1 || true)
    pocl=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p) | awk '/libpocl\.so\.2 /{ print $NF; exit }' || true)
    [ -n "$icd" ] && [ -n "$pocl" ] || { echo "oclgrind_run: no Oclgrind ICD or PoCL" >&2; exit 77; }
    echo "$pocl" >"$vendors/pocl.icd"
    echo "$icd" >"$vendors/oclgrind.icd"
    env=(OCL_ICD_VENDORS="$vendors" OCLGRIND_LOG="$log" OCLGRIND_MAX_ERRORS=1000
        OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1)
    [ "${checks[0]}" = --uninitialized ] && env+=(OCLGRIND_UNINITIALIZED=1)
    env "${env[@]}" "$@" || rc=$?
else
    oclgrind --log "$log" "${checks[@]}" --max-errors 1000 "$@" || rc=$?
fi
# the reports, one paragraph each; the known ones dropped
reports=$(awk -v known="$known_chan_sum" 'BEGIN { RS = "" }
    known && /^(Uninitialized value written to (global|local) memory|Controlflow depends on uninitialized value)/ &&
        /Kernel: lrelu_chan_sumg?_/ { next }
    { print; print "" }' "$log")
if [ -n "$reports" ]; then
    echo "oclgrind_run: Oclgrind reported:"
    printf '%s\n' "$reports" | head -200
    exit 1
fi
dropped=$(awk 'BEGIN { RS = "" } /Kernel: lrelu_chan_sumg?_/ { n++ } END { print n + 0 }' "$log")
[ "$known_chan_sum" = 1 ] && echo "oclgrind_run: $dropped known lrelu_chan_sum reports dropped"
exit $rc
