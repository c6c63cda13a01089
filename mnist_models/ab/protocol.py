"""The A/B worker protocol's versions: what each adds, and the one a worker of this tree speaks.

A worker says its version in its first answer (``{"ready": true, "protocol": n, ...}``); a worker of
the first version says none. The coordinator may meet an older worker (a base tree of an earlier
commit) and uses a feature only where both sides' versions have it:

========  =================  ==================================================================================
version   name               what it adds
========  =================  ==================================================================================
1         ``BLOCKS``         settings as one JSON line, the facts, ``{"case", "rounds"}`` -> ``{"times"}``,
                             ``{"finish": true}`` -> ``{"run"}``; says no version
2         ``REPLACEABLE``    a run holds only the benchmarks this process timed, so that a coordinator may
                             replace the process mid-way
3         ``GIVEN_PEAKS``    takes the matmul peaks of an earlier process (``{"peaks": {"fp32": [...],
                             "bf16": x}}``) instead of measuring them, and says its own in the answer to finish,
                             so that replacements of both sides may start at once
========  =================  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum


class Protocol(IntEnum):
    """A version of the worker protocol (the table above); compared as an int with what a worker says."""

    BLOCKS = 1
    REPLACEABLE = 2
    GIVEN_PEAKS = 3


CURRENT = max(Protocol)  # what this tree's worker speaks


def spoken(facts: Mapping) -> int:
    """The version a worker says in its first answer (``Protocol.BLOCKS`` where it says none); a newer tree's
    worker may say a version this one has no name for."""
    return int(facts.get("protocol", Protocol.BLOCKS))
