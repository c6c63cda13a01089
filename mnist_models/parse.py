"""Text into values: the converters of every option and flag (``type=``), each refusing bad text with a
message that says what it expected. No imports of ours: the plugin's options and every command use them."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeedPlan:
    """``--mnist-seeds auto:N[,T]``: seeds added in rounds to the models whose verdicts are still open, at most
    ``cap`` per model and, with a budget, ``budget_s`` seconds of training in all."""

    cap: int
    budget_s: float | None = None
    text: str = ""


def parse_duration(text: str) -> float:
    """``"90s"``, ``"20m"``, ``"1.5h"`` or a number of seconds -> seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", str(text).strip())
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use e.g. 90s, 20m or 1.5h")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def parse_seeds(text: str) -> tuple[int, ...] | SeedPlan:
    """``"0"``, ``"0,1,2"`` or ``"0-4"`` (inclusive) into a tuple of distinct seeds; ``"auto:N"`` or
    ``"auto:N,T"`` (a cap of N seeds per model, T of training in all) into a ``SeedPlan``."""
    text = str(text).strip()
    if text.startswith("auto"):
        match = re.fullmatch(r"auto:(\d+)(?:,(.+))?", text)
        if not match or int(match[1]) < 2:
            raise argparse.ArgumentTypeError(
                f"{text!r}: use auto:N with N >= 2 seeds per model at most, optionally with a time budget: auto:8,20m"
            )
        return SeedPlan(int(match[1]), parse_duration(match[2]) if match[2] else None, text)
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise argparse.ArgumentTypeError(f"{part!r} is not a seed; use e.g. 0 or 0,1,2 or 0-4, or auto:8")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low:
            raise argparse.ArgumentTypeError(f"empty range {part!r}")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seed listed twice in {text!r}")
    return tuple(seeds)


def split_patterns(text: str) -> tuple[str, ...]:
    """Comma-separated patterns, keeping commas inside parentheses: ``mlp(depth=2,width=8),cnn_*``."""
    out, depth, current = [], 0, ""
    for char in str(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += char
    out.append(current.strip())
    return tuple(p for p in out if p)


def split_names(text: str) -> tuple[str, ...]:
    """``"eager, onnxruntime"`` -> ``("eager", "onnxruntime")``, without duplicates."""
    return tuple(dict.fromkeys(n.strip() for n in str(text).split(",") if n.strip()))


def parse_percent(text: str) -> float:
    """``"25%"`` or ``"+25%"`` -> 0.25."""
    match = re.fullmatch(r"\+?(\d+(?:\.\d+)?)%", str(text).strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage; use e.g. 25%")
    return float(match[1]) / 100


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` into ``(2, 3)``: shard 2 of 3, counted from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shard; use K/N with 1 <= K <= N, e.g. 1/2")
    return int(match[1]), int(match[2])


def one_of(kind: str, choices: Iterable[str]) -> Callable[[str], str]:
    """A converter accepting one of ``choices`` (a registry's names), naming them when it refuses."""
    names = tuple(choices)

    def convert(text: str) -> str:
        if text not in names:
            raise argparse.ArgumentTypeError(f"unknown {kind} {text!r}; {kind}s are {', '.join(names)}")
        return text

    convert.__name__ = f"parse_{kind}"
    return convert


def _positive(kind: type) -> Callable[[str], Any]:
    """A converter to a number above zero of ``kind`` (int or float)."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if kind is int else 'a number'}"
            ) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
        return value

    convert.__name__ = f"positive_{kind.__name__}"
    return convert


positive_int = _positive(int)
positive_float = _positive(float)
