#!/usr/bin/env bash
# The checks this project runs when a CUDA GPU is at hand, in one go, within a time budget:
#   1. the speedrun on CUDA (fp32 and bf16 autocast, seeds 0-4),
#   2. the original notebook's protocol (`full` profile) for its ten architectures, seed 0, alone on the GPU,
#   3. the smoke suite, every group,
#   4. then side by side: `full` seeds 1-2 (CNNs first) and Fashion-MNIST `quick` seeds 0-2 (train cases),
#      whose accuracies count but whose times were measured sharing the GPU.
# Each step writes stock pytest-benchmark JSON into OUT_DIR; nothing is gated here.
#
# Usage: studies/cuda-session/cuda_session.sh SOURCE_DIR OUT_DIR [BUDGET_SECONDS]
#   SOURCE_DIR holds mnist/ and fashion-mnist/, each with the four official .gz files
#   (`mnist-models data fetch --source-dir` reads them; nothing is downloaded).
# Runs with any python3 that has torch and the project's dependencies; the package itself may be
# installed or not (PYTHONPATH and `-p mnist_models.bench.plugin` are used when its entry point is absent).
set -uo pipefail
cd "$(dirname "$0")/../.."
SOURCE_DIR=$1
OUT_DIR=$2
BUDGET=${3:-480}
PY=${PYTHON:-python3}
mkdir -p "$OUT_DIR"
START=$(date +%s)
DATA=$(mktemp -d)/data
export MNIST_MODELS_DATA=$DATA MNIST_MODELS_CACHE=$DATA/weights PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

left() { echo $((START + BUDGET - $(date +%s))); }
log() { echo "[$(date +%T) +$(($(date +%s) - START))s] $*" | tee -a "$OUT_DIR/session.log"; }

PLUGIN=()
if ! "$PY" -c 'import importlib.metadata as m, sys; sys.exit(not any(e.name == "mnist_models" for e in m.entry_points(group="pytest11")))'; then
    PLUGIN=(-p mnist_models.bench.plugin)
fi

suite() {  # suite NAME TIMEOUT ARGS...: one pytest session of the suite, its JSON and log into OUT_DIR
    local name=$1 limit=$2
    shift 2
    if [ "$limit" -le 5 ]; then log "$name: skipped, no time left"; return; fi
    log "$name: start (limit ${limit}s)"
    timeout "$limit" "$PY" -m pytest benchmarks "${PLUGIN[@]}" --benchmark-only --mnist-no-report -q \
        -p no:cacheprovider --benchmark-json "$OUT_DIR/$name.json" "$@" >"$OUT_DIR/$name.log" 2>&1
    log "$name: exit $? ($(tail -n 1 "$OUT_DIR/$name.log"))"
}

{
    nvidia-smi -L
    "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
} >"$OUT_DIR/machine.txt" 2>&1
log "$(tr '\n' ' ' <"$OUT_DIR/machine.txt")"
for dataset in mnist fashion-mnist; do
    "$PY" -m mnist_models data fetch --dataset "$dataset" --source-dir "$SOURCE_DIR/$dataset" >>"$OUT_DIR/session.log" 2>&1 \
        || { log "data fetch $dataset failed"; exit 2; }
done

NOTEBOOK_CNNS=cnn_32_64_fc128_64_32,cnn_32_64_fc64,cnn_64_128_fc150_64,cnn_128_256_fc256_128
NOTEBOOK_MLPS=mlp_64,mlp_128_64,mlp_256_128,mlp_512_384_256_128_64,mlp_1024_128_64,mlp_1500_1024_256_128
TRAIN=(-k "test_train and not step")

suite speedrun-fp32 60 "${TRAIN[@]}" --mnist-models speedrun_cnn --mnist-seeds 0-4
suite speedrun-bf16 60 "${TRAIN[@]}" --mnist-models speedrun_cnn --mnist-seeds 0-4 --mnist-precision bf16
suite full-seed0-cnn $(($(left) - 150)) --mnist-profile full "${TRAIN[@]}" --mnist-models "$NOTEBOOK_CNNS"
suite full-seed0-mlp $(($(left) - 120)) --mnist-profile full "${TRAIN[@]}" --mnist-models "$NOTEBOOK_MLPS"
suite smoke $(($(left) - 60)) --mnist-profile smoke

# Side by side from here on: accuracies count, times are shared.
for seed in 1 2; do
    (suite "full-seed$seed-cnn" $(($(left) - 10)) --mnist-profile full "${TRAIN[@]}" --mnist-models "$NOTEBOOK_CNNS" --mnist-seeds $seed
     suite "full-seed$seed-mlp" $(($(left) - 10)) --mnist-profile full "${TRAIN[@]}" --mnist-models "$NOTEBOOK_MLPS" --mnist-seeds $seed) &
done
suite fashion-quick $(($(left) - 10)) --mnist-dataset fashion-mnist "${TRAIN[@]}" --mnist-seeds 0-2 &
wait
log "done"
# One line per trained model, so the session's log alone carries the results.
"$PY" - "$OUT_DIR"/*.json <<'PYTHON' | tee -a "$OUT_DIR/session.log"
import json, sys
for path in sys.argv[1:]:
    for bench in json.load(open(path))["benchmarks"]:
        info = bench["extra_info"]
        if info.get("case") != "train":
            continue
        out = info["outcome"]
        last = (out.get("last_epoch_test") or out["test"])["accuracy"]
        print(f"{path.rsplit('/', 1)[-1]:<22} {info['model']:<24} seed {info['seed']}  best {out['test']['accuracy']:.4f}"
              f"  last {last:.4f}  epochs {out['epochs_run']:>3}  best epoch {out['best_epoch']:>3}"
              f"  train {out['train_time_s']:7.1f} s  {info['status']}")
PYTHON
