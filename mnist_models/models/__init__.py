"""Architectures as data: the registry, the built-in models and the facts measured on a model.

- ``registry``: ``ModelSpec`` and the name -> spec registry (``register_model``, ``get_spec``,
  ``resolve_models``); it imports none of the models.
- ``architectures``: the built-ins (the notebook's ten, a linear baseline, LeNet-5, parametric
  MLP and CNN families), each with its per-profile epochs and accuracy floors.
- ``layers``: the layer builders they are made of (MLP stacks, conv blocks, classifier heads).
- ``facts``: parameter counts and FLOPs per image.

Importing this package registers the built-ins, then every installed package's architectures
(entry point group ``mnist_models.architectures``): first the built-ins, so a clash always
names an installed package's model, whatever the import order.
"""

from __future__ import annotations

from ..installed import load_entry_points
from . import architectures  # noqa: F401  (importing registers the built-ins)
from .registry import REGISTRY

ENTRY_POINT_GROUP = "mnist_models.architectures"  # installed packages contribute architectures here


def _load_installed() -> None:
    """Import each entry point of ``ENTRY_POINT_GROUP``; what it registers is attributed to it."""
    load_entry_points(ENTRY_POINT_GROUP, REGISTRY.registering_from)


_load_installed()
