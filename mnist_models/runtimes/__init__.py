"""What runs a trained model for inference: PyTorch eager, torch.compile, ONNX Runtime, AOTInductor.

- ``base``: ``Runtime`` (a spec: name, what it needs installed, how to prepare a model) and
  ``Prepared`` (a warmed-up callable on a fixed input, with its conversion costs); the registry
  ``RUNTIMES`` (the built-ins, then installed packages' through the entry point group
  ``mnist_models.runtimes``, loaded on first use), ``register_runtime`` and ``get_runtime``.
- ``eager``, ``compiled``, ``onnx``, ``aoti``: one module per runtime, each a ``prepare`` function.
- ``agreement``: a prepared runtime's predictions against eager PyTorch's on the whole test set.

The inference groups (latency, throughput) time each runtime a session asks for
(``--mnist-runtimes``); a runtime that is not installed is skipped with its install command.
Importing this package imports no torch; the runtime modules do, and their libraries on use.
"""
