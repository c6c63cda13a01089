"""Text into values: the converters of every option and flag (``type=``), each refusing bad text with a
message that says what it expected. No imports of ours: the plugin's options and every command use them."""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
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


def positive_percent(text: str) -> float:
    """A threshold as a percentage above zero: ``"10%"`` -> 0.10 (``"0%"`` would flag every change)."""
    value = parse_percent(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a threshold must be above 0%, e.g. 10%")
    return value


def parse_alpha(text: str) -> float:
    """A false-alarm rate strictly between 0 and 1 (0 would switch the gate off, 1 or more fail everything)."""
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: alpha must satisfy 0 < alpha < 1, e.g. 0.05")
    return value


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
        value = _number(text, kind)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
        return value

    convert.__name__ = f"positive_{kind.__name__}"
    return convert


def _number(text: str, kind: type) -> Any:
    """``text`` as a finite ``kind`` (int or float): NaN and infinity are no setting's value."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


positive_int = _positive(int)
positive_float = _positive(float)


# --- Paths: refused when given, not when the run is minutes in -------------------------------------------


def _existing_part(path: Path) -> Path:
    """``path`` itself if it exists, else the nearest of its parents that does (what a write would meet first)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def folder(text: str) -> str:
    """A folder to read or to create: refused if it, or a part of its path, is a file."""
    path = Path(text).expanduser()
    blocker = _existing_part(path)
    if not blocker.is_dir():
        where = "" if blocker == path else f" {blocker}"
        raise argparse.ArgumentTypeError(f"{text}:{where} is a file, not a folder; give a folder (made if missing)")
    return text


def out_folder(text: str) -> str:
    """A folder to write into: as ``folder``, and refused where it cannot be written (checked before any work)."""
    folder(text)
    blocker = _existing_part(Path(text).expanduser())
    if not os.access(blocker, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: {blocker} is not writable; choose another folder or fix its mode")
    return text


def out_file(text: str) -> str:
    """A file to write: refused if it is a folder, a part of its path is a file, or its folder is not writable."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder; give the file to write, e.g. {path / 'merged.json'}")
    if text.endswith(os.sep):
        raise argparse.ArgumentTypeError(f"{text}: names a folder; give the file to write")
    out_folder(str(path.parent))
    return text


def existing_folder(text: str) -> str:
    """A folder that must exist (a repository, a source tree)."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {'is a file, not a folder' if path.exists() else 'no such folder'}")
    return text


def python_executable(text: str) -> str:
    """An interpreter to start: a command on ``$PATH`` or a path to an executable file."""
    if shutil.which(text) is None:
        raise argparse.ArgumentTypeError(
            f"{text}: no such Python (not found, or not executable); give a Python that can import the base tree's "
            "dependencies, e.g. .venv/bin/python"
        )
    return text


# --- Parsers: one line per usage error --------------------------------------------------------------------------


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (the usage is a ``--help`` away), with exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_debug_flag(parser: argparse.ArgumentParser, default: Any) -> None:
    """``--debug``: an error's traceback printed above its one line (``default``: ``argparse.SUPPRESS`` on a
    subcommand, so that the top level's value stands when it is not given again)."""
    parser.add_argument("--debug", action="store_true", default=default,
                        help="on an error, print the traceback before its one line")  # fmt: skip
