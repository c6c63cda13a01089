"""Blocks made from the code itself: the options table (from the one option table) and the report's figures (from
the section registry), and the quick start's measured durations."""

from __future__ import annotations

import json

from mnist_models.bench.options import ini_key, pytest_flag
from mnist_models.bench.settings import MAINTAINERS, AfterRun, SuiteSettings, declared
from mnist_models.report.sections.compose import SECTIONS

from .common import ROOT, table


def _default(item) -> str:
    value = item.default
    if value in (None, (), False):
        return "–"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    return str(value)


def options() -> str:
    """Every option, from its one declaration: flag, ini key, A/B flag, default, meaning."""
    rows = []
    for settings_class in (SuiteSettings, AfterRun):
        for item, option in declared(settings_class):
            rows.append({
                "option": f"`{pytest_flag(item)}`",
                "ini key": f"`{ini_key(item)}`" if option.ini else "–",
                "`mnist-models ab`": f"`--{item.name.replace('_', '-')}`" if option.ab else "–",
                "default": f"`{_default(item)}`" if _default(item) != "–" else "–",
                "meaning": ("maintainers: " if option.audience == MAINTAINERS else "") + option.help.replace("%%", "%"),
            })  # fmt: skip
    return table(rows)


FIGURE_QUESTIONS = {
    "accuracy": "Which model is most accurate, and are the intervals apart? (dots: seeds)",
    "loss": "Which model is most confidently right?",
    "significance": "Which accuracy differences are real? (Holm over every pair)",
    "complexity": "What do extra parameters buy? (the front dashed, bubble = training time)",
    "pareto": "What to pick for a budget: accuracy against each cost, its front named",
    "inference": "Batch-1 latency p50/p99 and batched throughput",
    "accuracy_vs_latency": "Accuracy against latency: the models worth deploying",
    "time_to_target": "How long to each validation accuracy (performance profiles)",
    "per_class": "Which digits (classes) does each model get wrong?",
    "confusion": "Which classes are mistaken for which?",
    "learning_curves": "Is a model under- or over-fitting; when should it stop?",
    "runtimes": "Each runtime's latency and throughput against eager PyTorch",
    "engine": "Our training loop against the notebook-style loop",
    "levers": "Each engine setting changed on its own",
    "comparison": "This run against the baseline, benchmark by benchmark",
}


def figures() -> str:
    """The report's figure files, numbered from the section registry, with the question each answers."""
    rows = [
        {"file": f"`{name}`", "section": section, "answers": FIGURE_QUESTIONS.get(slug, "")}
        for (section, slug), name in SECTIONS.figure_files().items()
    ]
    return table(rows)


def quickstart() -> str:
    """The README's two commands, timed verbatim from a fresh clone and home (studies/quickstart/quickstart_timing.sh)."""
    path = ROOT / "reports" / "quickstart" / "durations.json"
    if not path.is_file():
        return (
            "How long the two commands take has not been measured for this version: `bash "
            "studies/quickstart/quickstart_timing.sh` times them verbatim from a fresh clone and home and commits the "
            "figures here.\n"
        )
    record = json.loads(path.read_text())

    def duration(seconds: float) -> str:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if minutes else f"{rest} s"

    rows = [
        {"command": "1. the benchmark suite (quick profile)", "took": duration(record["command_1_s"]),
         "pytest said": "; ".join(record["command_1_pytest"]) or "–"},
        {"command": "2. the tests", "took": duration(record["command_2_s"]),
         "pytest said": "; ".join(record["command_2_pytest"]) or "–"},
    ]  # fmt: skip
    return (
        f"Timed verbatim by `studies/quickstart/quickstart_timing.sh` from a fresh clone and home ([reports/quickstart]"
        f"(reports/quickstart/durations.json), {record['date']}) on a {record['cores']}-core {record['cpu']} "
        f"({' '.join(record['isa'])}), for the code of that day; command 1 includes the install and the MNIST fetch.\n\n"
        + table(rows)
    )


def startup() -> str:
    """What the installed plugin costs a pytest project that never uses it (studies/startup/startup_cost.py --out)."""
    record = json.loads((ROOT / "reports" / "startup" / "startup.json").read_text())
    rows = [{
        "pytest start-up, one plain test": "with the plugin installed", "median": f"{record['with_s']:.3f} s",
        "peak memory": f"{record['with_mib']:.0f} MiB"}, {
        "pytest start-up, one plain test": "with `-p no:mnist_models`", "median": f"{record['without_s']:.3f} s",
        "peak memory": f"{record['without_mib']:.0f} MiB"},
    ]  # fmt: skip
    return (
        f"Measured by `{record['command']}` ([reports/startup](reports/startup/startup.json)) on {record['cpu']}: "
        f"median paired ratio {record['ratio_median']:.2f}× over {record['pairs']} alternating pairs (range "
        f"{record['ratio_min']:.2f}–{record['ratio_max']:.2f}×).\n\n" + table(rows)
    )
