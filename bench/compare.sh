#!/usr/bin/env bash
# compare.sh OLD_BENCH NEW_BENCH ROUNDS [lrelu-bench options...]: two builds of the
# benchmark side by side in one run, for a change that must not slow any call. Each round
# runs both with the same options, in alternating order (old first in odd rounds), so
# drift on a shared machine touches both alike. For every row (op, dtype, impl, n) it
# prints the median over the rounds of each build's median time, new / old, and the
# run's own spread: the larger of the two builds' round-to-round (max - min) / median.
# A row is marked SLOWER where new / old exceeds 1 + that spread; the exit status is 1
# where any row is.
#   bench/compare.sh /tmp/old/build/bench/lrelu-bench build/bench/lrelu-bench 5 \
#       --min-log2 12 --max-log2 24 --step 4 --budget 0.2
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
old=$1 new=$2 rounds=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for b in $order; do
        bin=$old
        [ "$b" = new ] && bin=$new
        "$bin" "$@" --csv "$out/$b-$r.csv" >/dev/null 2>&1
    done
    echo "compare: round $r of $rounds done" >&2
done
python3 - "$out" "$rounds" <<'EOF'
import csv, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
times = {}  # (op, dtype, impl, n) -> {"old": [...], "new": [...]}
for build in ("old", "new"):
    for r in range(1, rounds + 1):
        with open(f"{out}/{build}-{r}.csv") as f:
            for row in csv.DictReader(f):
                if not row["impl"].startswith("lrelu"):
                    continue  # the baselines are the same code in both builds
                key = (row["op"], row["dtype"], row["impl"], int(row["n_elements"]))
                times.setdefault(key, {"old": [], "new": []})[build].append(float(row["median_us"]))
def spread(v):
    m = statistics.median(v)
    return (max(v) - min(v)) / m if m > 0 else 0.0
print("op,dtype,impl,n_elements,old_us,new_us,new_over_old,spread,verdict")
slower = 0
ratios = []
for key in sorted(times):
    t = times[key]
    if len(t["old"]) != rounds or len(t["new"]) != rounds:
        continue
    o, n = statistics.median(t["old"]), statistics.median(t["new"])
    ratio, s = n / o, max(spread(t["old"]), spread(t["new"]))
    ratios.append(ratio)
    verdict = "SLOWER" if ratio > 1 + s else "same"
    slower += verdict == "SLOWER"
    print(f"{key[0]},{key[1]},{key[2]},{key[3]},{o:.2f},{n:.2f},{ratio:.3f},{s:.3f},{verdict}")
print(f"# {len(ratios)} rows: median new/old {statistics.median(ratios):.3f}, "
      f"{slower} slower beyond the run's spread", file=sys.stderr)
sys.exit(1 if slower else 0)
EOF
