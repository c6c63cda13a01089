"""The built-in datasets, one module each: everything a dataset is lives in its entry, nowhere else.

This package is the entry point ``built-ins`` of ``mnist_models.datasets`` (``pyproject.toml``), the door a
third party's dataset comes through too; the registry imports it at its first lookup, never at package import.
"""

from . import mnist  # noqa: F401, I001  (importing registers it; first, as the default)
from . import fashion_mnist, torchvision_sets  # noqa: F401
