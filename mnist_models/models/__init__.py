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

from importlib import metadata

from . import architectures  # noqa: F401  (importing registers the built-ins)
from .registry import REGISTRY

ENTRY_POINT_GROUP = "mnist_models.architectures"  # installed packages contribute architectures here


def _load_installed() -> None:
    """Import each entry point of ``ENTRY_POINT_GROUP``; what it registers is attributed to it."""
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        source = f"entry point '{entry.name} = {entry.value}'" + (f" ({dist.name} {dist.version})" if dist else "")
        with REGISTRY.registering_from(source):
            try:
                entry.load()
            except ValueError:
                raise
            except Exception as exc:  # an installed package's import error: name it, with the fix
                raise ValueError(
                    f"{source} could not be loaded ({type(exc).__name__}: {exc}); "
                    "fix or uninstall that package to run the suite"
                ) from exc


_load_installed()
