"""ONNX Runtime: the model exported with torch.onnx (the dynamo exporter) and run by an InferenceSession.

Session settings matched to the suite's: ``intra_op_num_threads`` = the session's torch threads,
one inter-op thread, sequential execution, every graph optimisation. The timed call uses IO
binding onto the fixed input and a pre-allocated output (measured on a 2-core CPU: 15 µs a call
for a 109k-parameter MLP at batch 1, against 21 µs through ``session.run``). On CUDA the CUDA
execution provider is used where its package (onnxruntime-gpu) is installed, bound to the
tensors' device memory; otherwise the CPU provider. Cold: export plus session creation; warm: a
second session from the exported file. ``export`` and ``served`` are shared with ``quantized``.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .base import Prepared


def _session(path: Path, threads: int, providers: list[str]):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), options, providers=providers)


def export(model, x: torch.Tensor, path: Path) -> None:
    """``model`` as an ONNX file at ``path``, for inputs shaped like ``x`` (input ``x``, output ``logits``)."""
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():  # the exporter prints its steps
        torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=False, input_names=["x"],
                          output_names=["logits"])  # fmt: skip


def served(path: Path, x: torch.Tensor, device: torch.device, threads: int, started: float) -> Prepared:
    """The ONNX file at ``path`` in an InferenceSession bound to ``x``, called once. Its cold conversion time runs
    from ``started`` (before the export) to the first session; warm is a second session from the same file."""
    import onnxruntime as ort

    cuda = device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
    x = x.contiguous()
    session = _session(path, threads, providers)
    cold = time.perf_counter() - started
    start = time.perf_counter()
    session = _session(path, threads, providers)
    warm = time.perf_counter() - start
    shape = [x.shape[0], session.get_outputs()[0].shape[-1]]
    binding = session.io_binding()
    if cuda:
        out = torch.empty(shape, device=device)
        binding.bind_input("x", "cuda", device.index or 0, np.float32, list(x.shape), x.data_ptr())
        binding.bind_output("logits", "cuda", device.index or 0, np.float32, shape, out.data_ptr())
    else:
        host_x = x.cpu().numpy()
        out = np.empty(shape, np.float32)
        binding.bind_cpu_input("x", host_x)
        binding.bind_output("logits", "cpu", 0, np.float32, shape, out.ctypes.data)

    def run():
        session.run_with_iobinding(binding)  # returns once the outputs are written (CUDA: synchronised)
        return out

    def call(batch: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"x": batch.contiguous().cpu().numpy()})[0])

    run()  # first call: memory arenas, kernels
    return Prepared(run, call, cold, warm, path.stat().st_size)


def prepare(model, x: torch.Tensor, device: torch.device, threads: int, precision: str):
    with tempfile.TemporaryDirectory(prefix="mnist-onnx-") as folder:
        path = Path(folder) / "model.onnx"
        start = time.perf_counter()
        export(model, x.contiguous(), path)
        return served(path, x, device, threads, start)
