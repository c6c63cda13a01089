"""The memory groups' runners: each figure from a process of its own (``probe``), so that no benchmark inherits
another's peak, whatever ran before it in the session.

A benchmark's one round is its probes (their wall time is what pytest-benchmark records; the group is not
timed for A/B). What a probe measures is described in ``probe`` and in docs/memory.md.
"""

from __future__ import annotations

import atexit
import io
import os
import pickle
import select
import subprocess
import sys
import tempfile
from typing import Any

import torch

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.timing import NotApplicable, TimedCall
from ...runtimes.base import Runtime, get_runtime
from .spec import CALLS, TRAIN_STEPS

MIB = 2**20
# glibc hands freed blocks of 64 KiB or more back to the system (a fixed threshold: its sliding one would keep
# them after the first free), trims its heap's top beyond 64 KiB and keeps one arena for every thread: the
# resident set then follows what is alive.
ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_ARENA_MAX": "1"}
PROBE_TIMEOUT_S = 900


class ProbeError(RuntimeError):
    """A probe that failed: the message names the model and what was measured, and what went wrong."""


def reply(status: str, found: Any, probed: str) -> dict[str, Any]:
    """A probe's answer: its figures; a skip where the runtime cannot take the model; else a ``ProbeError``."""
    if status == "unsupported":
        raise NotApplicable(found)
    if status != "ok":
        raise ProbeError(f"{probed} failed: {found}")
    return found


class ProbeServer:
    """The probe server (``probe``), started on first use with glibc's settings, closed when this process exits."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._errors: Any = None  # its standard error, a temporary file: what a crashed server said last
        self._registered = False  # close() is registered to run at exit

    def ask(self, request: dict[str, Any], what: str) -> dict[str, Any]:
        process, name = self._start(), request["model_name"]
        try:
            pickle.dump(request, process.stdin)
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], PROBE_TIMEOUT_S)
            if not ready:
                self.close()
                raise ProbeError(f"{name}: the memory probe of {what} said nothing in {PROBE_TIMEOUT_S} s")
            status, found = pickle.load(process.stdout)
        except (BrokenPipeError, EOFError):
            code, said = process.wait(), self._last_error()
            self.close()
            raise ProbeError(f"{name}: the memory probe of {what} stopped (its server exited {code}): {said}") from None
        return reply(status, found, f"{name}: the memory probe of {what}")

    def _start(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            env = {**os.environ, **ALLOCATOR_ENV, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self.close()  # a server that exited: its pipes and error file
            self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the server runs)
            self._process = subprocess.Popen([sys.executable, "-m", "mnist_models.groups.memory.probe"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors,
                                             env=env)  # fmt: skip
            if not self._registered:
                atexit.register(self.close)
                self._registered = True
        return self._process

    def _last_error(self) -> str:
        self._errors.seek(0)
        lines = self._errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def close(self) -> None:
        """Stop the server (its measuring child, if any, dies with it: a parent-death signal) and close its pipes."""
        process, self._process = self._process, None
        errors, self._errors = self._errors, None
        if errors is not None:
            errors.close()
        if process is None:
            return
        if process.poll() is None:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            stream.close()


SERVER = ProbeServer()


def probe(request: dict[str, Any], what: str) -> dict[str, Any]:
    """One measurement in a child process of its own; its figures, or a ``ProbeError`` saying what failed."""
    return SERVER.ask(request, what)


def _check_platform() -> None:
    """The probes read Linux's /proc and fork: elsewhere the groups do not apply (a skip saying why)."""
    if not sys.platform.startswith("linux"):
        raise NotApplicable(f"peak memory is measured through Linux's /proc and fork; this is {sys.platform}")


def request_for(context: RunContext, case: Case, model: torch.nn.Module, kind: str, batch: int, **extra) -> dict:
    buffer = io.BytesIO()
    torch.save(model, buffer)
    data, plan = context.data, context.plan
    return {
        "kind": kind,
        "model_name": case.model,
        "model_bytes": buffer.getvalue(),
        "config": case.training.config,
        "batch": batch,
        "shape": tuple(data.x_test.shape[1:]),
        "classes": len(data.classes),
        "device": str(plan.device),
        "threads": plan.threads,
        **extra,
    }


def _call(measure, trained, fields: dict[str, Any]) -> TimedCall:
    """One round: the probes; their figures become the record's (``finish``)."""
    return TimedCall(measure, 1, 0, 0, 0, fields, trained=trained, finish=lambda found: (trained, {**fields, **found}))


def train(context: RunContext, case: Case, variant=None) -> TimedCall:
    """The peak of ``TRAIN_STEPS`` optimiser steps at the profile's batch on a fresh model: weights, gradients,
    the optimiser's state and the activations autograd keeps."""
    _check_platform()
    batch = case.training.config.batch_size
    request = request_for(context, case, context.plan.fresh_model(case).cpu(), "train-step", batch, calls=TRAIN_STEPS)

    def measure() -> dict[str, Any]:
        found = probe(request, "optimiser steps")
        return {"train_step_peak_mib": found["peak_bytes"] / MIB}

    return _call(measure, context.trained(case), {"batch_size": batch})


def unmeasured(runtime: Runtime, device_type: str, precision: str) -> str | None:
    """Why ``runtime``'s inference peak is not measured in this session (a skip), or ``None``: it does not run
    here, or on CUDA its memory comes from an allocator other than torch's, which the probe cannot see."""
    if why_not := runtime.why_not(device_type, precision):
        return why_not
    if device_type == "cuda" and runtime.allocator != "torch":
        return (
            f"{runtime.name} allocates CUDA memory through {runtime.allocator}, outside torch's allocator: not measured"
        )
    return None


def inference(context: RunContext, case: Case, variant=None) -> TimedCall:
    """The peaks of batch-1 and batched inference by ``variant``'s runtime, each measured once the runtime has
    prepared the model (not the conversion's own peak): the prepared model, what the runtime keeps, each call's
    working memory."""
    _check_platform()
    name = variant or "eager"
    plan = context.plan
    if why_not := unmeasured(get_runtime(name), plan.device.type, case.training.config.precision):
        raise NotApplicable(why_not)
    trained = context.trained(case)
    batched = min(plan.profile.throughput_batch, len(context.data.y_test))
    options = context.conversions.options(case, name)  # what the inference groups build with
    model = trained.model
    requests = {size: request_for(context, case, model, "inference", size, runtime=name, options=options, calls=CALLS)
                for size in (1, batched)}  # fmt: skip

    def measure() -> dict[str, Any]:
        one, many = (
            probe(requests[1], f"batch-1 inference on {name}"),
            probe(requests[batched], f"batched inference on {name}"),
        )
        return {
            "latency_peak_mib": one["peak_bytes"] / MIB,
            "throughput_peak_mib": many["peak_bytes"] / MIB,
        }

    return _call(measure, trained, {"batch_size": batched, "runtime": name})
