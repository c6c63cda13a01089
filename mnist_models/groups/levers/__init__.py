"""The ``levers`` group: importing it registers its spec and its runner."""

from __future__ import annotations

from .. import FOREIGN


def run(context, case, variant=None, **options):
    """The group's runner, imported (with torch) on its first call: the spec stays readable without torch."""
    from .runner import run

    return run(context, case, variant, **options)


if not FOREIGN:
    from ...bench.runners import register_runner
    from ...results.groups import register_group
    from .spec import NAME, SPEC

    register_group(SPEC)
    register_runner(NAME)(run)
