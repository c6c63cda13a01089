"""ONNX Runtime on int8: the ``onnxruntime`` runtime's export, quantized by ``onnxruntime.quantization``.

How a graph is quantized is read from the operators its export holds (``SCHEMES``, first match),
chosen by what ran fastest on the CPUs here (a 2-core AMD EPYC with AVX-512 VNNI, 2 threads):
a graph with convolutions is quantized statically, to QDQ (``QuantizeLinear``/``DequantizeLinear``
pairs that ONNX Runtime fuses into ``QLinearConv`` and ``QGemm``), its activation ranges calibrated
by min/max on the session's training images (``calibration``); dynamic quantization's
``ConvInteger`` ran lenet5 at 97 µs a batch-1 call against 52 µs static, and cnn_32_64_fc64 at
413 µs against 63 µs. A graph of matrix products only is quantized dynamically (weights int8,
each activation's scale computed per call: no calibration; mlp_64 at batch 500 in 140 µs against
273 µs fp32). Weights and activations are signed int8; a static scheme's weights per output channel, its
batch norms left in fp32 (``KEPT_FP32``). A graph with
none of these operators has nothing to quantize: ``NotSupported``, a skip. Cold conversion time:
export, pre-processing, calibration, quantization and the session; warm: a second session.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .base import NotSupported, Prepared
from .onnx import export, served

# (the operators a graph holds, how it is quantized), the first that matches
SCHEMES = ((frozenset({"Conv"}), "static QDQ"), (frozenset({"Gemm", "MatMul"}), "dynamic"))
# Per channel, onnxruntime cannot quantize a 1-D weight (a batch norm's, where no convolution absorbed it): it warned
# and left it in fp32; left there by name, it says nothing, and speedrun_cnn's graph is the same.
KEPT_FP32 = frozenset({"BatchNormalization"})


def scheme(operators: set[str]) -> str | None:
    """How a graph holding ``operators`` is quantized (``SCHEMES``), or ``None``: nothing in it to quantize."""
    return next((how for needs, how in SCHEMES if needs & operators), None)


def calibration_batches(images: np.ndarray, batch: int) -> list[np.ndarray]:
    """``images`` in batches of ``batch`` (the exported graph's fixed shape), the last filled up from the first
    images again: min/max calibration sees every image, and no other."""
    count = -(-len(images) // batch)
    index = np.arange(count * batch) % len(images)
    return [images[index[start : start + batch]] for start in range(0, len(index), batch)]


def _reader(batches: list[np.ndarray]):
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(batches)

        def get_next(self):
            batch = next(self._batches, None)
            return None if batch is None else {"x": batch}

    return Reader()


def _quantize(source: Path, target: Path, how: str, calibration: torch.Tensor | None, batch: int) -> None:
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    if how == "dynamic":
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
        return
    if calibration is None or not len(calibration):
        raise ValueError("static quantization needs calibration images from the training split; none were given")
    reader = _reader(calibration_batches(calibration.contiguous().numpy(), batch))
    operators = sorted({node.op_type for node in onnx.load(str(source)).graph.node} - KEPT_FP32)
    # Calibration keeps each tensor's min and max per batch, not the tensors: small. (Its option to bound them,
    # CalibMaxIntermediateOutputs, drops the batches it clears in onnxruntime 1.32: left alone.)
    quantize_static(str(source), str(target), reader, quant_format=QuantFormat.QDQ, op_types_to_quantize=operators,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)  # fmt: skip


def prepare(model, x: torch.Tensor, device: torch.device, threads: int, precision: str,
            calibration: torch.Tensor | None = None) -> Prepared:  # fmt: skip
    """``model`` exported, quantized to int8 (``SCHEMES``) and served by ONNX Runtime for inputs shaped like ``x``;
    ``calibration``: training images for a static scheme's activation ranges."""
    import onnx
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="mnist-int8-") as folder:
        fp32, ready, int8 = (Path(folder) / f"{name}.onnx" for name in ("fp32", "ready", "int8"))
        start = time.perf_counter()
        export(model, x.contiguous(), fp32)
        operators = {node.op_type for node in onnx.load(str(fp32)).graph.node}
        how = scheme(operators)
        if how is None:
            raise NotSupported(f"its export holds none of {', '.join(sorted(set().union(*(n for n, _ in SCHEMES))))} "
                               f"(only {', '.join(sorted(operators))}): nothing to quantize to int8")  # fmt: skip
        quant_pre_process(str(fp32), str(ready))  # shape inference and graph fusions first, as onnxruntime advises
        _quantize(ready, int8, how, calibration, len(x))
        prepared = served(int8, x, device, threads, start)
    used = f", {len(calibration)} calibration images" if how != "dynamic" else ""
    return replace(prepared, quantization=f"int8 {how}{used}")
