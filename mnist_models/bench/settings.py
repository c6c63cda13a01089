"""What a user asked a session for, as plain data: parsed from the command line, ini keys or JSON, no torch.

The pytest plugin and ``mnist-models ab`` build a ``SuiteSettings`` from their own options
(with the converters below as their ``type=``), and the A/B workers receive it as JSON;
``bench.session.open_session`` turns it into a running session. One set of names, one parse.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..data.sources import DATASETS
from ..training.config import PRECISIONS
from .profiles import PROFILES


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0"``, ``"0,1,2"`` or ``"0-4"`` (inclusive) into a tuple of distinct seeds."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise argparse.ArgumentTypeError(f"{part!r} is not a seed; use e.g. 0 or 0,1,2 or 0-4")
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


def _one_of(kind: str, choices: Iterable[str]) -> Callable[[str], str]:
    """A converter accepting one of ``choices`` (a registry's names), naming them when it refuses."""
    names = tuple(choices)

    def convert(text: str) -> str:
        if text not in names:
            raise argparse.ArgumentTypeError(f"unknown {kind} {text!r}; {kind}s are {', '.join(names)}")
        return text

    convert.__name__ = f"parse_{kind}"
    return convert


parse_dataset = _one_of("dataset", DATASETS)
parse_precision = _one_of("precision", PRECISIONS)
parse_profile = _one_of("profile", PROFILES)


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


@dataclass(frozen=True)
class SuiteSettings:
    """A session's settings before anything is resolved (no torch, no registry lookups)."""

    profile: str = "quick"
    models: tuple[str, ...] = ()  # fnmatch patterns and parametric names; empty: every built-in
    seeds: tuple[int, ...] = (0,)
    device: str = "auto"
    dataset: str = "mnist"
    data_dir: str | None = None
    cache_dir: str | None = None
    threads: int | None = None
    skip_mirrors: bool = False  # do not try the dataset mirrors; go to the package-index route
    precision: str | None = None  # autocast for every model (None: each model's own, else fp32)
    compile: bool = False  # torch.compile for training and timed eager inference
    runtimes: tuple[str, ...] = ("eager",)  # what runs the inference groups
    rounds: float = 1.0  # scale on the profile's timed rounds
    levers: bool = False
    shard: tuple[int, int] | None = None
    shard_times: str | None = None  # a previous run whose seconds balance the shards
    slowdown: float = 0.0  # injected extra work per timed call, as a fraction

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteSettings:
        names = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cls(**values)
