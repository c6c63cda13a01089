"""Memory measurements, each in a process of its own: ``python -m mnist_models.groups.memory.probe`` serves them.

The server imports torch and this module, never runs a torch operation, and reads requests (pickled) on its
standard input; for each it forks a child that makes the one measurement, sends it back and exits. Every child
so starts from the same memory as every other, none from another's. The parent (``runner``) starts the server with
glibc's settings and sends each request: the model (``torch.save``'s bytes), its training config, what to
measure (``"train-step"`` or ``"inference"``), the runtime, the batch, the input's shape, the device and threads,
and the runtime's build options. The child imports what the measurement needs, makes its input, and only then
takes its baseline; it sends back the measurement, or what went wrong.

On the CPU the peak is the resident set's high-water mark (``VmHWM``) above that baseline, the mark reset through
``/proc/self/clear_refs`` where the measured work begins; glibc is told (by the parent, through its environment)
to hand every freed block of 64 KiB or more back to the system, so that the resident set follows what is alive.
On CUDA it is the caching allocator's peak (``torch.cuda.max_memory_allocated``) above its baseline, after a
reset of its peak statistics.
"""

from __future__ import annotations

import ctypes
import gc
import io
import os
import pickle
import signal
import sys
from pathlib import Path
from typing import Any

import torch

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent exits


def _status(key: str) -> int:
    """A ``/proc/self/status`` figure in bytes (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(f"/proc/self/status has no {key}: this measurement needs Linux")


class Meter:
    """The peak above a baseline: the resident set on the CPU, the caching allocator on CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"
        self.method = "cuda-allocator" if self.cuda else "rss-hwm"

    def settle(self) -> None:
        gc.collect()
        if self.cuda:
            torch.cuda.synchronize(self.device)
        else:
            ctypes.CDLL("libc.so.6").malloc_trim(0)

    def now(self) -> int:
        self.settle()
        return torch.cuda.memory_allocated(self.device) if self.cuda else _status("VmRSS")

    def reset(self) -> None:
        """Start a new high-water mark at what is resident (allocated) now."""
        self.settle()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            Path("/proc/self/clear_refs").write_text("5")

    def peak(self) -> int:
        if self.cuda:
            torch.cuda.synchronize(self.device)
            return torch.cuda.max_memory_allocated(self.device)
        return _status("VmHWM")


def measure(request: dict) -> dict:
    from mnist_models.runtimes.base import get_runtime
    from mnist_models.training.stepper import Stepper

    device, config = torch.device(request["device"]), request["config"]
    if request["threads"]:
        torch.set_num_threads(request["threads"])
    runtime = get_runtime(request["runtime"]) if request["kind"] == "inference" else None
    if runtime:
        runtime.import_libraries()  # a library's own import is not the model's memory
    batch, shape = request["batch"], request["shape"]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((batch, *shape), generator=generator).to(device).contiguous(memory_format=config.memory_format)
    y = torch.randint(0, request["classes"], (batch,), generator=generator).to(device)
    meter = Meter(device)

    def load() -> torch.nn.Module:
        return torch.load(io.BytesIO(request["model_bytes"]), map_location=device, weights_only=False)

    def train_steps() -> dict:
        model = load().to(memory_format=config.memory_format).train()
        Stepper(model, config, device).run([(x, y)] * request["calls"])
        return {"peak_bytes": meter.peak()}

    def serve() -> dict:
        prepared = runtime.build(request["model_name"], load().eval(), x, device, request["threads"],
                                 config.precision, **request["options"])  # fmt: skip
        meter.reset()  # serving, not converting: what stays resident once prepared, and each call's working memory
        with torch.no_grad():
            for _ in range(request["calls"]):
                prepared.run()
        return {"peak_bytes": meter.peak()}

    work = serve if runtime else train_steps
    work()  # once unmeasured: the libraries' code paged in, their lazy state made, none of it the model's
    baseline = meter.now()
    meter.reset()
    found = work()
    return {"method": meter.method, "baseline_bytes": baseline, **{k: v - baseline for k, v in found.items()}}


def _in_child(request: dict) -> tuple[str, Any]:
    """A forked child's one measurement: ``("ok", figures)``, ``("unsupported", why)`` where the runtime cannot take
    the model (the inference groups skip it too), or ``("error", what went wrong)``."""
    from mnist_models.runtimes.base import NotSupported

    try:
        return "ok", measure(request)
    except NotSupported as exc:
        return "unsupported", str(exc)
    except Exception as exc:  # any failure, named: the parent raises it as the benchmark's ProbeError
        return "error", f"{type(exc).__name__}: {exc}"


def answer(request: dict) -> tuple[str, Any]:
    """Fork a child for ``request`` and return what it sent back (or how it ended, if it sent nothing)."""
    read, write = os.pipe()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: measure, answer, and leave without running the server's exit handlers
        os.close(read)
        ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # killed with the server (a timeout)
        if os.getppid() != server:  # the server was gone before the signal was asked for
            os._exit(1)
        with os.fdopen(write, "wb") as out:
            pickle.dump(_in_child(request), out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        sent = source.read()
    _, status = os.waitpid(pid, 0)
    if sent:
        return pickle.loads(sent)
    return "error", f"the probe's process ended with status {os.waitstatus_to_exitcode(status)} and said nothing"


def serve() -> None:
    """Answer each request on standard input, until it closes; anything a library prints goes to standard error."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # fd 1 (what C libraries print to) now goes to standard error: the replies have a pipe of their own
    requests = sys.stdin.buffer
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        pickle.dump(answer(request), replies)
        replies.flush()


if __name__ == "__main__":
    serve()
