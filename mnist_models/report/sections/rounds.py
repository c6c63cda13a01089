"""The seed rounds of a run with ``--mnist-seeds auto:N``: which verdicts were decided, which stayed open, the
seeds each model used, what they cost and why each seed was trained."""

from __future__ import annotations

import pandas as pd

from ...results.groups import GROUPS
from ..page.content import Section, Table
from .inputs import Inputs, Part
from .registry import register_section

STATUS = {"below": "decided: below another", "futile": "decided: not separable from the most accurate",
          "decided": "decided: most accurate", "best": "open (most accurate so far)", "open": "open at the cap"}  # fmt: skip


def status_word(status: str | None, verdicts: dict) -> str:
    """A seed-round verdict in words: the best is "most accurate" only when no other model is left beside it
    (one that cannot be separated from it makes it "tied for most accurate")."""
    if status == "decided" and any(v.get("status") == "futile" for v in verdicts.values()):
        return "decided: tied for most accurate"
    return STATUS.get(status, "–")


@register_section("rounds", order=25)
def seed_rounds(inputs: Inputs) -> Part | None:
    rounds = [r.machine.get("mnist_models", {}).get("seed_rounds") for r in inputs.runs]
    run, design = next(((r, d) for r, d in zip(inputs.runs, rounds, strict=True) if d), (None, None))
    if design is None or not design.get("looks"):
        return None
    last = design["looks"][-1]["verdicts"]
    trained: dict[str, list] = {}
    for bench in run.benches:
        if bench.record.group in GROUPS and GROUPS.get(bench.record.group).trains:
            trained.setdefault(bench.record.model, []).append(bench.record)
    rows = []
    for model, records in trained.items():
        verdict = last.get(model, {})
        rows.append({
            "model": model,
            "seeds": len(records),
            "training s": f"{sum(r.outcome.train_time_s for r in records):.1f}",
            "verdict": status_word(verdict.get("status"), last),
            "why": verdict.get("reason", ""),
            "why each seed": "; ".join(f"{r.seed}: {r.seed_reason}" for r in sorted(records, key=lambda r: r.seed)
                                       if r.seed_reason),
        })  # fmt: skip
    table = pd.DataFrame(rows)
    used, cap = sum(len(r) for r in trained.values()), design["cap"]
    budget = f" and a budget of {design['budget_s']:.0f} s of training" if design.get("budget_s") else ""
    lines = (
        f"Seeds were added in rounds (looks at {', '.join(map(str, design['schedule']))} seeds per model) to the "
        f"models whose verdicts were open, up to {cap} each{budget}.",
        f"{used} seeds were trained of the {cap * len(trained)} a fixed design would have, {design['training_s']:.0f} s "
        "of training in all.",
        "Each look tests every pair at its share of α 0.05 (O'Brien-Fleming-type spending, Holm over the pairs).",
        "A model stops when it is significantly below another, or when even the cap's seeds are unlikely to separate "
        "it from the most accurate (conditional power below 20%; error rates simulated in reports/seed-test).",
    )
    found = {"seed_rounds": {r["model"]: {"seeds": r["seeds"], "verdict": r["verdict"], "why": r["why"]} for r in rows}}
    section = Section("rounds", "Seeds until decided", lines=lines, tables=(Table(table),))
    return Part(section, found, {"seed_rounds.csv": table.to_csv(index=False).encode()})
