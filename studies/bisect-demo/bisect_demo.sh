#!/usr/bin/env bash
# A real bisect, for docs/gating.md: a throwaway clone of this repository at HEAD gets COMMITS commits on
# top, one of them (SLOW_AT) adding +STEP of real extra work to every batch-1 latency call (the same spin
# --mnist-slowdown uses); `mnist-models bisect` then searches them, on the quick profile's latency of MODEL,
# and its bisect.md and each probe's ab.md go to OUT. Train the suite once first so the weights are cached.
#
#   bash studies/bisect-demo/bisect_demo.sh                                  # 6 commits, the slowdown at commit 4, into reports/bisect-demo
#   COMMITS=8 SLOW_AT=3 STEP=0.5 MODEL=lenet5 bash studies/bisect-demo/bisect_demo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=$(realpath -s "${PYTHON:-.venv/bin/python}")  # -s: a venv's python is a symlink; resolved, it loses the venv
COMMITS=${COMMITS:-6}
SLOW_AT=${SLOW_AT:-4}
STEP=${STEP:-0.25}
MODEL=${MODEL:-mlp_256_128}
OUT=$(realpath -m "${OUT:-reports/bisect-demo}")
CLONE=$(mktemp -d /tmp/bisect-demo-XXXX)

git clone -q . "$CLONE"
good=$(git -C "$CLONE" rev-parse HEAD)
git -C "$CLONE" config user.email demo@example.com
git -C "$CLONE" config user.name "bisect demo"
runners="$CLONE/mnist_models/bench/runners.py"
line='    return inference(session, case, 1, LATENCY, variant)'
grep -qF "$line" "$runners"
for k in $(seq 1 "$COMMITS"); do
    echo "demo commit $k" > "$CLONE/DEMO"
    if [ "$k" = "$SLOW_AT" ]; then
        sed -i "s|^$line\$|$line.slowed($STEP)  # the regression: +$STEP of extra work per call|" "$runners"
    fi
    git -C "$CLONE" add -A && git -C "$CLONE" commit -q -m "demo commit $k$([ "$k" = "$SLOW_AT" ] && echo ': slower latency')"
done
bad=$(git -C "$CLONE" rev-parse HEAD)
rm -rf "$OUT"
(cd "$CLONE" && "$PY" -m mnist_models bisect --good "$good" --bad "$bad" --models "$MODEL" --groups latency \
    --threshold 10% --out "$OUT" "$@") || status=$?
git -C "$CLONE" log --oneline "$good..$bad" > "$OUT/commits.txt"
echo "bisect_demo: commit $SLOW_AT of $COMMITS is $(git -C "$CLONE" rev-list --reverse "$good..$bad" | sed -n "${SLOW_AT}p")"
rm -rf "$CLONE"
exit "${status:-0}"
