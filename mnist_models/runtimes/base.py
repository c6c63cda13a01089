"""Runtimes as data: a spec per runtime, what it needs installed, and what preparing a model gives back."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConversionError(RuntimeError):
    """A model that a runtime could not convert or compile: the message names the model and the runtime."""


@dataclass
class Prepared:
    """A model made ready by a runtime for one input shape, warmed up, and what that cost.

    ``run()`` is one timed call on the fixed input (the device synchronised before it returns);
    ``forward(x)`` gives logits as a torch tensor for any batch of the same shape (the agreement
    pass). Times are in seconds; ``artifact_bytes`` is the size of what the runtime runs.
    """

    run: Callable[[], Any]
    forward: Callable[[Any], Any]
    conversion_time_s: float | None = None  # export or compile from cold caches
    conversion_warm_time_s: float | None = None  # the same again, caches warm
    artifact_bytes: int | None = None
    notes: str = ""  # the settings chosen (guards, wrappers, threads), for the record and the report
    keep: Any = None  # what must live as long as the runner (a package's temporary folder)


@dataclass(frozen=True)
class Runtime:
    """One runtime: ``prepare(model, x, device, threads, precision) -> Prepared``, by its module path."""

    name: str
    description: str
    prepare: str  # "module:function"
    requires: tuple[str, ...] = ()  # importable modules it needs beyond torch
    extra: str | None = None  # the mnist-models extra that installs them
    precisions: tuple[str, ...] = ("fp32",)  # autocast precisions it can run the session's weights at

    def missing(self) -> str | None:
        """Why this runtime cannot run here (with the install command), or ``None``."""
        absent = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if not absent:
            return None
        install = f"pip install 'mnist-models[{self.extra}]'" if self.extra else f"pip install {' '.join(absent)}"
        return f"{self.name} needs {', '.join(absent)}, which is not installed: {install}"

    def build(self, *args: Any, **kwargs: Any) -> Prepared:
        module, _, function = self.prepare.partition(":")
        return getattr(importlib.import_module(module), function)(*args, **kwargs)


_HERE = "mnist_models.runtimes"
RUNTIMES: dict[str, Runtime] = {
    runtime.name: runtime
    for runtime in (
        Runtime("eager", "PyTorch eager mode, as trained (torch.compile with --mnist-compile)", f"{_HERE}.eager:prepare",
                precisions=("fp32", "bf16", "fp16")),
        Runtime("compile", "torch.compile (inductor), weights frozen into the graph, one graph per input shape",
                f"{_HERE}.compiled:prepare"),
        Runtime("onnxruntime", "the torch.onnx (dynamo) export, run by an ONNX Runtime InferenceSession with IO binding",
                f"{_HERE}.onnx:prepare", requires=("onnx", "onnxscript", "onnxruntime"), extra="onnx"),
        Runtime("aoti", "torch.export + AOTInductor: a compiled package loaded without Python in the loop",
                f"{_HERE}.aoti:prepare"),
    )
}  # fmt: skip


def register_runtime(runtime: Runtime) -> Runtime:
    """Add a runtime (``--mnist-runtimes`` then accepts its name)."""
    if runtime.name in RUNTIMES and RUNTIMES[runtime.name] != runtime:
        raise ValueError(f"runtime {runtime.name!r} is registered already; give the new one another name")
    RUNTIMES[runtime.name] = runtime
    return runtime


def get_runtime(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise KeyError(f"unknown runtime {name!r}; runtimes are {', '.join(RUNTIMES)}")
    return RUNTIMES[name]


def session_runtimes(config: Any) -> tuple[str, ...]:
    """The runtimes a session runs its inference groups with (``--mnist-runtimes``), eager first."""
    names = tuple(config.runtimes) or ("eager",)
    return tuple(sorted(names, key=lambda n: n != "eager"))
