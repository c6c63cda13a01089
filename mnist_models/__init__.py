"""mnist-models: train and benchmark neural-network architectures on MNIST-like data.

The public names below are imported on first use, so that importing the package (as
pytest does when it loads the plugin of every project that installs it) costs nothing
and never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .version import __version__ as __version__

_PUBLIC = {
    "DataError": ".data.dataset",
    "DatasetSpec": ".data.registry",
    "get_dataset": ".data.registry",
    "list_datasets": ".data.registry",
    "register_dataset": ".data.registry",
    "MNISTData": ".data.dataset",
    "fetch_dataset": ".data.dataset",
    "load_dataset": ".data.dataset",
    "resolve_device": ".training.device",
    "Evaluation": ".results.outcome",
    "evaluate": ".training.evaluation",
    "wilson_interval": ".training.evaluation",
    "count_parameters": ".models.facts",
    "inference_flops": ".models.facts",
    "training_flops": ".models.facts",
    "ModelSpec": ".models.registry",
    "create_model": ".models.registry",
    "get_spec": ".models.registry",
    "list_models": ".models.registry",
    "register_model": ".models.registry",
    "resolve_models": ".models.registry",
    "TrainConfig": ".results.protocol",
    "GroupSpec": ".results.groups",
    "SummaryColumn": ".results.groups",
    "register_group": ".results.groups",
    "BenchmarkRecord": ".results.record",
    "TimedCall": ".bench.timing",
    "register_runner": ".bench.runners",
    "RunContext": ".bench.context",
    "register_section": ".report.sections.registry",
    "register_runtime": ".runtimes.base",
    "TrainResult": ".results.outcome",
    "train": ".training.loop",
}

__all__ = [
    "BenchmarkRecord",
    "DataError",
    "DatasetSpec",
    "Evaluation",
    "GroupSpec",
    "MNISTData",
    "ModelSpec",
    "RunContext",
    "SummaryColumn",
    "TimedCall",
    "TrainConfig",
    "TrainResult",
    "count_parameters",
    "create_model",
    "evaluate",
    "fetch_dataset",
    "get_dataset",
    "get_spec",
    "inference_flops",
    "list_datasets",
    "list_models",
    "load_dataset",
    "register_dataset",
    "register_group",
    "register_model",
    "register_runner",
    "register_runtime",
    "register_section",
    "resolve_device",
    "resolve_models",
    "train",
    "training_flops",
    "wilson_interval",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .bench.context import RunContext
    from .bench.runners import register_runner
    from .bench.timing import TimedCall
    from .data.dataset import DataError, MNISTData, fetch_dataset, load_dataset
    from .data.registry import DatasetSpec, get_dataset, list_datasets, register_dataset
    from .models.facts import count_parameters, inference_flops, training_flops
    from .models.registry import ModelSpec, create_model, get_spec, list_models, register_model, resolve_models
    from .report.sections.registry import register_section
    from .results.groups import GroupSpec, SummaryColumn, register_group
    from .results.outcome import Evaluation, TrainResult
    from .results.protocol import TrainConfig
    from .results.record import BenchmarkRecord
    from .runtimes.base import register_runtime
    from .training.device import resolve_device
    from .training.evaluation import evaluate, wilson_interval
    from .training.loop import train


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mnist_models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
