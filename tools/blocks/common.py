"""What every generated block shares: the committed runs, Markdown tables, the machine a figure was measured on."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from mnist_models.results import machine
from mnist_models.results.runs import Run, load_run

ROOT = Path(__file__).resolve().parents[2]

# The original notebook's own results (its README; shared/reference): name, test accuracy, epochs run / best.
NOTEBOOK = {
    "cnn_128_256_fc256_128": ("Very Big CNN", 0.9932, 18, 8),
    "cnn_32_64_fc128_64_32": ("CNN (base)", 0.9913, 22, 12),
    "cnn_32_64_fc64": ("Small CNN", 0.9913, 18, 8),
    "cnn_64_128_fc150_64": ("Big CNN", 0.9910, 16, 6),
    "mlp_1500_1024_256_128": ("Very Big MLP", 0.9830, 16, 6),
    "mlp_256_128": ("Wider MLP", 0.9805, 17, 7),
    "mlp_1024_128_64": ("Big MLP", 0.9801, 16, 6),
    "mlp_512_384_256_128_64": ("Wider-Deeper MLP", 0.9780, 16, 6),
    "mlp_128_64": ("Deeper MLP", 0.9771, 17, 7),
    "mlp_64": ("Shallow MLP", 0.9751, 24, 14),
}


def runs_of(pattern: str) -> list[Run]:
    paths = sorted(ROOT.glob(pattern))
    if not paths:
        raise SystemExit(f"readme_tables: no committed run matches {pattern}")
    return [load_run(p) for p in paths]


def table(rows: list[dict]) -> str:
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True) + "\n"


def run_link(run: Run) -> str:
    """A link to the folder a committed run lies in (a reader follows it; a run id or commit hash in prose says nothing)."""
    if run.path is None:
        return "an uncommitted run"
    folder = Path(run.path).resolve().parent.relative_to(ROOT)
    return f"[{folder}]({folder}/)"


def machine_line(runs: list[Run]) -> str:
    """Which machine a table was measured on, from its run: no time is published without its CPU and peaks."""
    parts = [f"{run_link(run)} ({str(run.datetime)[:10]}): {machine.header(run.machine)}" for run in runs]
    return "Measured in " + "; ".join(parts) + ".\n\n"


def num(value, fmt: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def percent(fraction) -> str:
    """A fraction as a whole percent (0.42 -> "42%"), "–" when there is none, as the report's own tables show it."""
    text = num(fraction * 100 if fraction is not None else None, ".0f")
    return text if text == "–" else f"{text}%"


def acc(row) -> str:
    return f"{row.test_accuracy:.2%} ({row.ci_low:.2%}–{row.ci_high:.2%})"
