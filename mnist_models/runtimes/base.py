"""Runtimes as data: a spec per runtime, what it needs installed, and what preparing a model gives back."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..installed import load_entry_points
from ..results.record import AGREEMENT_TOLERANCE


class ConversionError(RuntimeError):
    """A model that a runtime could not convert or compile: the message names the model and the runtime."""


class NotSupported(Exception):
    """A model that a runtime cannot run by what it is made of (nothing to quantize): its benchmark is skipped with
    the message, where a library's failure on a model it should convert is a ``ConversionError``."""


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
    keep: Any = None  # what must live as long as the runner (a package's temporary folder)
    quantization: str | None = None  # how its weights were quantized ("int8 dynamic"...), None: as trained


@dataclass(frozen=True)
class Runtime:
    """One runtime: ``prepare(model, x, device, threads, precision) -> Prepared``, by its module path.

    A runtime that ``calibration`` names a number of images for is also given ``calibration=``: that many training
    images, a fixed sample (``calibration_images``), never a test image.
    """

    name: str
    description: str
    prepare: str  # "module:function"
    requires: tuple[str, ...] = ()  # importable modules it needs beyond torch
    extra: str | None = None  # the mnist-models extra that installs them
    precisions: tuple[str, ...] = ("fp32",)  # autocast precisions it can run the session's weights at
    devices: tuple[str, ...] = ("cpu", "cuda")  # the device types it runs on
    calibration: int = 0  # training images it calibrates on (0: none)
    agreement_floor: float = AGREEMENT_TOLERANCE  # top-1 agreement with eager below which its benchmark fails
    baseline: str | None = None  # the runtime whose fp32 graph this one transforms: its ratios are shown against it
    allocator: str = "torch"  # where its CUDA memory comes from: the memory group measures torch's allocator only

    def why_not(self, device_type: str, precision: str) -> str | None:
        """Why this runtime does not apply to a session on ``device_type`` at ``precision`` (a skip), or ``None``."""
        if missing := self.missing():
            return missing
        if precision not in self.precisions:
            return f"{self.name} runs the weights at {', '.join(self.precisions)}; this session runs {precision}"
        if device_type not in self.devices:
            return f"{self.name} runs on {', '.join(self.devices)} only; this session runs on {device_type}"
        return None

    def import_libraries(self) -> None:
        """Import the libraries it needs (a memory probe's baseline then holds them, and not the model's memory)."""
        for module in self.requires:
            importlib.import_module(module)

    def missing(self) -> str | None:
        """Why this runtime cannot run here (with the install command), or ``None``."""
        absent = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if not absent:
            return None
        install = f"pip install 'mnist-models[{self.extra}]'" if self.extra else f"pip install {' '.join(absent)}"
        return f"{self.name} needs {', '.join(absent)}, which is not installed: {install}"

    def build(self, model_name: str, *args: Any, **kwargs: Any) -> Prepared:
        """Prepare the model (``prepare(model, x, device, threads, precision, ...)``); a conversion that fails,
        whatever its library raised, is a ``ConversionError`` naming the model and this runtime (the cause
        chained), so that one benchmark fails and says which."""
        module, _, function = self.prepare.partition(":")
        prepare = getattr(importlib.import_module(module), function)
        try:
            return prepare(*args, **kwargs)
        except NotSupported:
            raise
        except Exception as exc:  # a converter's failure, of any kind: re-raised with what failed, never swallowed
            raise ConversionError(f"{model_name} on {self.name}: {type(exc).__name__}: {exc}".strip()) from exc


_HERE = "mnist_models.runtimes"
# int8's calibration sample: 64, 256 and 1,024 training images gave lenet5 and speedrun_cnn the same agreement
# with fp32 within 0.04 pp (256: 0.1 s of calibration at batch 1 on a 2-core AMD EPYC).
QUANTIZED_CALIBRATION = 256
# int8 rounds every activation, and near-ties flip: on a 2-core AMD EPYC its agreement with fp32 was 99.89-100% for
# the 13 built-in models at the quick profile, 97.9-100% on the smoke profile's barely trained weights (logits
# almost tied); broken calibrations (unscaled pixels, one blank image) gave 13-92% (docs/runtimes.md, "int8").
QUANTIZED_AGREEMENT = 0.95
BUILT_IN = (
    Runtime("eager", "PyTorch eager mode, as trained (torch.compile with --mnist-compile)", f"{_HERE}.eager:prepare",
            precisions=("fp32", "bf16", "fp16")),
    Runtime("compile", "torch.compile (inductor), weights frozen into the graph, one graph per input shape",
            f"{_HERE}.compiled:prepare"),
    Runtime("onnxruntime", "the torch.onnx (dynamo) export, run by an ONNX Runtime InferenceSession with IO binding",
            f"{_HERE}.onnx:prepare", requires=("onnx", "onnxscript", "onnxruntime"), extra="onnx", allocator="onnxruntime"),
    Runtime("aoti", "torch.export + AOTInductor: a compiled package loaded without Python in the loop",
            f"{_HERE}.aoti:prepare"),
    Runtime("onnxruntime-int8", "the onnxruntime export quantized to int8 weights and activations: dynamic without "
            "convolutions, static QDQ calibrated on training images with them", f"{_HERE}.quantized:prepare",
            requires=("onnx", "onnxscript", "onnxruntime"), extra="onnx", devices=("cpu",),
            calibration=QUANTIZED_CALIBRATION, agreement_floor=QUANTIZED_AGREEMENT, baseline="onnxruntime",
            allocator="onnxruntime"),
)  # fmt: skip
ENTRY_POINT_GROUP = "mnist_models.runtimes"  # installed packages contribute runtimes here (a module registering them)


class RuntimeRegistry:
    """Runtimes by name: the built-ins, then installed packages' (entry points, loaded on first use)."""

    def __init__(self, runtimes: tuple[Runtime, ...]) -> None:
        self._runtimes = {runtime.name: runtime for runtime in runtimes}
        self._installed = False

    def add(self, runtime: Runtime) -> Runtime:
        if runtime.name in self._runtimes and self._runtimes[runtime.name] != runtime:
            raise ValueError(f"runtime {runtime.name!r} is registered already; give the new one another name")
        self._runtimes[runtime.name] = runtime
        return runtime

    def get(self, name: str) -> Runtime:
        self._load_installed()
        if name not in self._runtimes:
            raise KeyError(f"unknown runtime {name!r}; runtimes are {', '.join(self._runtimes)}")
        return self._runtimes[name]

    def names(self) -> list[str]:
        self._load_installed()
        return list(self._runtimes)

    def _load_installed(self) -> None:
        if self._installed:
            return
        self._installed = True
        load_entry_points(ENTRY_POINT_GROUP)


RUNTIMES = RuntimeRegistry(BUILT_IN)


def register_runtime(runtime: Runtime) -> Runtime:
    """Add a runtime (``--mnist-runtimes`` then accepts its name)."""
    return RUNTIMES.add(runtime)


def get_runtime(name: str) -> Runtime:
    return RUNTIMES.get(name)


def calibration_images(x_train, count: int, seed: int = 0):
    """``count`` images of the training split ``x_train`` (all of it when smaller), drawn by ``seed``, in their
    order in the split: the same sample for every model and runtime of a session, on the CPU."""
    import torch

    if count >= len(x_train):
        return x_train.cpu()
    drawn = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed))[:count]
    return x_train[drawn.sort().values.to(x_train.device)].cpu()
