"""mnist-models: train and benchmark neural-network architectures on MNIST-like data."""

from .data import DataError, MNISTData, fetch_dataset, load_dataset
from .device import resolve_device
from .evaluation import Evaluation, evaluate, wilson_interval
from .facts import count_parameters, inference_flops, training_flops
from .registry import ModelSpec, create_model, get_spec, list_models, register_model, resolve_models
from .training import TrainConfig, TrainResult, train

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

__version__ = "0.1.0"
