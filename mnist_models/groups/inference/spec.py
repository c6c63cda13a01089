"""The inference groups as data: ``latency`` (batch 1; p50 and p99) and ``throughput`` (batched), each per runtime."""

from __future__ import annotations

from ...results.groups import GroupSpec, SummaryColumn, Variants

LATENCY = "latency"
THROUGHPUT = "throughput"
RUNTIMES = Variants("runtime", "runtimes", default="eager")  # the runtimes the session was asked for
INFERENCE_FIELDS = ("batch_size", "compile_time_s", "runtime", "agreement", "disagreements", "max_logit_diff",
                    "runtime_accuracy", "fp32_only_correct", "runtime_only_correct", "agreement_floor",
                    "runtime_baseline", "quantization", "conversion_time_s", "conversion_warm_time_s",
                    "artifact_bytes", "peak_rss_bytes")  # fmt: skip
LATENCY_SPEC = GroupSpec(
    LATENCY,
    "batch-1 inference on the trained weights; p50 and p99",
    rounds="latency_rounds",
    warmup_rounds=10,
    timed=True,
    ab_blocks=5,
    order=20,
    variants=RUNTIMES,
    sections=("runtimes",),
    fields=(*INFERENCE_FIELDS, "latency_p50_ms", "latency_p99_ms"),
    summary=(
        SummaryColumn("latency_p50_ms", "latency_p50_ms", "p50 ms", ".3f", key=True, by_runtime=True, order=10),
        SummaryColumn("latency_p99_ms", "latency_p99_ms", "p99 ms", ".3f", by_runtime=True, order=11),
    ),
)
THROUGHPUT_SPEC = GroupSpec(
    THROUGHPUT,
    "batched inference on the trained weights: images/s",
    rounds="throughput_rounds",
    warmup_rounds=2,
    timed=True,
    order=30,
    fields=INFERENCE_FIELDS,
    variants=RUNTIMES,
    sections=("runtimes",),
    summary=(
        SummaryColumn("throughput_img_s", "images_per_s", "img/s", ",.0f", key=True, by_runtime=True, order=20),
        SummaryColumn("throughput_peak_fraction", "peak_fraction", "% peak infer", "percent", order=32),
    ),
)
