"""What runs a trained model for inference: PyTorch eager, torch.compile, ONNX Runtime (fp32 and int8), AOTInductor.

- ``base``: ``Runtime`` (a spec: name, what it needs installed, the precisions and devices it runs, the training
  images it calibrates on, its agreement floor, how to prepare a model) and ``Prepared`` (a warmed-up callable on
  a fixed input, with its conversion costs and how it quantized); the registry ``RUNTIMES`` (the built-ins, then
  installed packages' through the entry point group ``mnist_models.runtimes``, loaded on first use),
  ``register_runtime``, ``get_runtime`` and ``calibration_images`` (the training split's fixed sample).
- ``eager``, ``compiled``, ``onnx``, ``quantized``, ``aoti``: one module per runtime, each a ``prepare`` function
  (``quantized`` reuses ``onnx``'s export and session).
- ``agreement``: a prepared runtime's predictions against eager PyTorch's on the whole test set, with the images only
  one of the two classifies right (McNemar's counts).

The inference groups (latency, throughput) time each runtime a session asks for
(``--mnist-runtimes``); a runtime that is not installed is skipped with its install command.
Importing this package imports no torch; the runtime modules do, and their libraries on use.
"""
