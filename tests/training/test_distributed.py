"""Data-parallel training: two gloo processes over the loopback address match one process, and save one run."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnist_models import TrainConfig, create_model, load_dataset, train

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "test_mnist.py"
STEPS = 16  # one epoch of 1,024 images at the global batch of 64

pytestmark = pytest.mark.slow

WORKER = """
import sys, torch
torch.set_num_threads(1)
from mnist_models import TrainConfig, create_model, load_dataset, train
from mnist_models.training.distributed import join, leave
world, device = join(torch.device("cpu"))
data = load_dataset("mnist", sys.argv[1]).subset(1024, 256, 256)
torch.manual_seed(0)
model = create_model("mlp_64")
result = train(model, data, TrainConfig(max_epochs=1, seed=0), bar=False, world=world)
if world.rank == 0:
    torch.save({"state": model.state_dict(), "train_loss": result.history[0].train_loss,
                "world": (world.size, world.backend)}, sys.argv[2])
leave()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _loopback_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", **extra}


def test_two_processes_end_with_the_weights_of_one_at_the_same_global_batch(data_root, tmp_path):
    port = str(_free_port())
    out = tmp_path / "ddp.pt"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_root[0]), str(out)],
            env=_loopback_env(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_PORT=port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
    ddp = torch.load(out, weights_only=True)
    assert ddp["world"] == (2, "gloo")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = load_dataset("mnist", data_root[0]).subset(1024, 256, 256)
        torch.manual_seed(0)
        model = create_model("mlp_64")
        single = train(model, data, TrainConfig(max_epochs=1, seed=0), bar=False)
    finally:
        torch.set_num_threads(threads)
    # the same 16 optimiser steps on the same global batches; only the order of float sums differs
    for name, value in model.state_dict().items():
        torch.testing.assert_close(ddp["state"][name], value, rtol=1e-4, atol=1e-5, msg=name)
    assert ddp["train_loss"] == pytest.approx(single.history[0].train_loss, rel=1e-5)
    assert not torch.equal(model[1].weight, create_model("mlp_64")[1].weight)  # it did train


def test_torchrun_two_ranks_train_together_and_rank_0_alone_saves_one_run(pytester, data_root, tmp_path):
    pytester.makepyfile(test_mnist=SUITE.read_text())
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "pytest",
        "--benchmark-only",
        "--mnist-profile=smoke",
        "--mnist-models=mlp_64",
        "--mnist-threads=1",
        f"--mnist-data-dir={data_root[0]}",
        f"--mnist-cache-dir={tmp_path / 'w'}",
        "-p",
        "no:cacheprovider",
        "-k",
        "latency or (test_train and not step)",
        "--benchmark-autosave",
        "--benchmark-storage=file://store",
    ]
    proc = subprocess.run(
        command, cwd=pytester.path, env=_loopback_env(), capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    output = proc.stdout + proc.stderr  # the launcher passes each rank's output through
    assert re.search(r"\b2 passed, \d+ deselected", output)  # rank 0: train and latency
    assert re.search(r"\b1 passed, \d+ deselected", output)  # rank 1: train only
    [saved] = (pytester.path / "store").rglob("*.json")
    records = {b["group"]: b["extra_info"] for b in json.loads(saved.read_text())["benchmarks"]}
    assert set(records) == {"train", "latency"}
    train_record = records["train"]
    assert (train_record["world_size"], train_record["backend"]) == (2, "gloo")
    assert train_record["images_per_s_per_process"] == pytest.approx(train_record["images_per_s"] / 2)
    assert records["latency"]["world_size"] == 1
    assert len(list((tmp_path / "w").glob("*.pt"))) == 1  # one cache entry, written by rank 0
    assert len(list((pytester.path / "reports").iterdir())) == 1
