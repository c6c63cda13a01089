#!/usr/bin/env bash
# A real history with one known step, for reports/history/: RUNS saved runs of the quick profile's
# timed groups (train-step, latency, throughput) of three models on this machine, one after the
# other, with a +STEP slowdown injected into every timed call from run FROM on (--mnist-slowdown:
# real extra work, recorded in each run); then the history page of them all. The page must show
# that one step, at run FROM, and no other. Run the suite once first so the weights are cached.
#
# With MODE=ab each run is instead one `mnist-models ab` comparison of this commit (HEAD, in a git
# worktree) against itself, the head slowed from run FROM on: the history then holds the A/B
# slowdown ratios, the series a CI job that gates with `mnist-models ab` keeps.
#
#   bash studies/history/history_real.sh                      # 12 runs, +25% from run 7, into reports/history/real
#   MODE=ab bash studies/history/history_real.sh              # 12 A/B comparisons, into reports/history/real-ab
#   RUNS=16 FROM=9 STEP=10% OUT=/tmp/h bash studies/history/history_real.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-12}
FROM=${FROM:-7}
STEP=${STEP:-25%}
MODE=${MODE:-pytest}
MODELS=${MODELS:-mlp_128_64,mlp_256_128,cnn_32_64_fc64}
OUT=${OUT:-reports/history/real$([ "$MODE" = ab ] && echo -ab || true)}
STORE=$(mktemp -d /tmp/history-store-XXXX)

for i in $(seq 1 "$RUNS"); do
    slow=0%
    [ "$i" -ge "$FROM" ] && slow=$STEP
    echo "history_real: run $i of $RUNS ($MODE), injected slowdown $slow"
    if [ "$MODE" = ab ]; then
        status=0
        "$PY" -m mnist_models ab --base HEAD --models "$MODELS" --slowdown "$slow" --seed "$i" \
            --out "$STORE/$(printf 'ab%02d' "$i")" >/dev/null || status=$?
        [ "$status" -le 1 ] || exit "$status"  # 1: the gate caught the slowdown, as it should
    else
        "$PY" -m pytest benchmarks --benchmark-only -q -p no:cacheprovider -k "train_step or latency or throughput" \
            --mnist-models "$MODELS" --mnist-slowdown "$slow" --mnist-no-report \
            --benchmark-autosave --benchmark-storage "file://$STORE" >/dev/null
    fi
done
mkdir -p "$OUT"
rm -rf "$OUT/runs" && cp -r "$STORE" "$OUT/runs"
if [ "$MODE" = ab ]; then
    "$PY" -m mnist_models history "$OUT"/runs/ab*/head.json --out "$OUT"  # the heads: their times and A/B ratios
    rm -f "$OUT"/runs/ab*/base.json "$OUT"/runs/ab*/head.json  # 3.5 MB a comparison: the tables stay (and $STORE)
    echo "history_real: the comparisons' base.json and head.json stay in $STORE"
else
    "$PY" -m mnist_models history --storage "$OUT/runs" --out "$OUT"
fi
