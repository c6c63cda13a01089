"""mnist-models: train and benchmark neural-network architectures on MNIST-like data.

The public names below are imported on first use, so that importing the package (as
pytest does when it loads the plugin of every project that installs it) costs nothing
and never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_PUBLIC = {
    "DataError": ".data",
    "MNISTData": ".data",
    "fetch_dataset": ".data",
    "load_dataset": ".data",
    "resolve_device": ".device",
    "Evaluation": ".evaluation",
    "evaluate": ".evaluation",
    "wilson_interval": ".evaluation",
    "count_parameters": ".facts",
    "inference_flops": ".facts",
    "training_flops": ".facts",
    "ModelSpec": ".registry",
    "create_model": ".registry",
    "get_spec": ".registry",
    "list_models": ".registry",
    "register_model": ".registry",
    "resolve_models": ".registry",
    "TrainConfig": ".training",
    "TrainResult": ".training",
    "train": ".training",
}

__all__ = [
    "DataError",
    "Evaluation",
    "MNISTData",
    "ModelSpec",
    "TrainConfig",
    "TrainResult",
    "count_parameters",
    "create_model",
    "evaluate",
    "fetch_dataset",
    "get_spec",
    "inference_flops",
    "list_models",
    "load_dataset",
    "register_model",
    "resolve_device",
    "resolve_models",
    "train",
    "training_flops",
    "wilson_interval",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .data import DataError, MNISTData, fetch_dataset, load_dataset
    from .device import resolve_device
    from .evaluation import Evaluation, evaluate, wilson_interval
    from .facts import count_parameters, inference_flops, training_flops
    from .registry import ModelSpec, create_model, get_spec, list_models, register_model, resolve_models
    from .training import TrainConfig, TrainResult, train


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mnist_models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
