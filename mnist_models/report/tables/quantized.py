"""What quantizing a model cost: its accuracy against eager fp32's on the same weights and test images, and its speed.

A runtime that quantizes says so in its records (``quantization``). For each model it ran, McNemar's test
on the images only one of the two classifies right (one record: the first seed's weights at batch 1) asks
whether the quantized model's accuracy differs from fp32's; the family is every row of the table,
Holm-corrected, so a verdict holds at 5% family-wise over the models shown. Speed is a ratio of the
runtimes table's medians (above 1: the quantized model is faster), over eager and over the fp32 runtime
whose graph was quantized (``runtime_baseline``), where that ran too.
"""

from __future__ import annotations

import math

import pandas as pd

from ...stats.multiple import holm
from ...stats.paired import mcnemar_counts_p
from .significance import ALPHA

TEST = (
    "McNemar's test (exact below 25 discordant images) of each quantized model's test-set predictions against eager "
    "fp32's on the same weights (the first seed's, at batch 1), Holm-corrected over the models shown: "
    f"a verdict holds at {ALPHA:.0%} family-wise"
)


def quantized_table(runtimes: pd.DataFrame) -> pd.DataFrame:
    """Per model and quantizing runtime of ``runtimes`` (``groups.runtime_table``): fp32 and quantized accuracy,
    their difference, McNemar's p and Holm's, the verdict, agreement, and speed and size ratios. Empty when no
    runtime quantized, or none was checked against eager (an A/B side's records)."""
    if runtimes.empty or "quantization" not in runtimes:
        return pd.DataFrame()
    tested = runtimes[runtimes["quantization"].notna() & runtimes["fp32_only_correct"].notna()]  # A/B: no counts
    if tested.empty:
        return pd.DataFrame()
    by = runtimes.set_index(["model", "runtime"])
    rows = []
    for r in tested.itertuples():
        shift = (r.runtime_only_correct - r.fp32_only_correct) / r.test_images
        base = by.loc[(r.model, r.runtime_baseline)] if (r.model, r.runtime_baseline) in by.index else None
        rows.append({
            "model": r.model,
            "runtime": r.runtime,
            "quantization": r.quantization,
            "fp32_accuracy": r.paired_accuracy - shift,
            "quantized_accuracy": r.paired_accuracy,
            "delta_pp": shift * 100,
            "fp32_only_correct": r.fp32_only_correct,
            "runtime_only_correct": r.runtime_only_correct,
            "mcnemar_p": mcnemar_counts_p(int(r.fp32_only_correct), int(r.runtime_only_correct)),
            "agreement": r.agreement,
            "latency_vs_eager": r.latency_speedup,
            "throughput_vs_eager": r.throughput_speedup,
            "baseline": r.runtime_baseline if base is not None else None,
            "latency_vs_baseline": None if base is None else base["latency_p50_ms"] / r.latency_p50_ms,
            "throughput_vs_baseline": None if base is None else r.throughput_img_s / base["throughput_img_s"],
            "artifact_ratio": None if base is None else r.artifact_bytes / base["artifact_bytes"],
        })  # fmt: skip
    table = pd.DataFrame(rows)
    table["holm_p"] = holm(table["mcnemar_p"].to_numpy())
    table["verdict"] = [verdict(p, d) for p, d in zip(table["holm_p"], table["delta_pp"], strict=True)]
    return table


def verdict(holm_p: float, delta_pp: float) -> str:
    """What a Holm-adjusted p and the accuracy change say, in words."""
    if not holm_p < ALPHA:
        return "no significant change"
    return "significantly worse" if delta_pp < 0 else "significantly better"


def findings(quantized: pd.DataFrame) -> dict:
    """The table as ``insights.json`` holds it: the test and its scope once, then a row per model (plain numbers,
    ``None`` where a figure is missing)."""

    def plain(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    rows = [{k: plain(v) for k, v in row.items()} for row in quantized.to_dict("records")]
    return {"test": TEST, "models": len(rows), "rows": rows}
