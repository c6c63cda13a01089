"""Each group's runner, by the group's name: the function that builds one benchmark's ``TimedCall``.

A runner is ``runner(context, case, variant) -> TimedCall`` (``context`` a ``RunContext``: the plan,
the data, the weights and the session's services, typed and nothing more; ``case`` a ``plan.Case``;
``variant`` the group's own parameter or ``None``), bound to its group with ``register_runner``: the
group's spec (``results.groups``) is data, its runner code. The built-in groups bind theirs from their
folders (``mnist_models.groups``), as an installed package's group does from the module its entry point
names. No torch here: a group's folder registers its runner without importing it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..results.groups import GROUPS
from .timing import TimedCall

Runner = Callable[..., TimedCall]
RUNNERS: dict[str, Runner] = {}


def register_runner(group: str) -> Callable[[Runner], Runner]:
    """Decorator: the function that builds ``group``'s ``TimedCall`` for one case (and variant)."""

    def bind(runner: Runner) -> Runner:
        existing = RUNNERS.get(group)
        if existing is not None and _where(existing) != _where(runner):  # the same function again: a module re-run
            raise ValueError(f"benchmark group {group!r} has a runner already ({existing.__qualname__})")
        RUNNERS[group] = runner
        return runner

    return bind


def _where(function: Callable) -> tuple[str, str]:
    return function.__module__, function.__qualname__


def runner_for(group: str) -> Runner:
    """``group``'s runner; ``KeyError`` naming the fix when the group has none."""
    GROUPS.get(group)  # the group is known (installed packages' groups and runners loaded)
    if group not in RUNNERS:
        raise KeyError(
            f"benchmark group {group!r} has no runner; bind one with @register_runner({group!r}) from "
            "mnist_models.bench.runners, in the module that registers the group"
        )
    return RUNNERS[group]
