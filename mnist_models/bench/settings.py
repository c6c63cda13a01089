"""What a user asked a session for, as plain data: parsed from the command line, ini keys or JSON, no torch.

The pytest plugin and ``mnist-models ab`` build a ``SuiteSettings`` from their own options
(with the converters below as their ``type=``), and the A/B workers receive it as JSON;
``bench.session.open_session`` turns it into a running session. One set of names, one parse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..data.sources import DATASETS
from ..parse import (  # noqa: F401  (the options' converters, in one place)
    one_of,
    parse_percent,
    parse_seeds,
    parse_shard,
    positive_float,
    positive_int,
    split_names,
    split_patterns,
)
from ..results.protocol import PRECISIONS
from .profiles import PROFILES

parse_dataset = one_of("dataset", DATASETS)
parse_precision = one_of("precision", PRECISIONS)
parse_profile = one_of("profile", PROFILES)


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
