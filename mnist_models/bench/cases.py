"""The benchmark suite's cases: one test function per benchmark group, for any pytest project to collect.

``benchmarks/test_mnist.py`` of this checkout star-imports them (every registered group, no list
to keep), and so can a test module of your own project (``from mnist_models.bench.cases import *``),
next to the ``conftest.py`` that registers your architectures (or your own group, see
``results.groups.register_group``). A runtime's failed conversion fails its benchmark with a
``ConversionError`` naming the model and the runtime; the session's other cases run on.
The functions are made from the group registry when they are imported, so a registered group
has its test function too. Each asks for the plugin's fixtures (``mnist_case``, its
``mnist_variant`` and ``mnist_suite``), measures its group's ``TimedCall`` (``Session.measure``) and
checks the floor, and for a runtime its agreement with eager PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ..results.groups import GROUPS, GroupSpec
from .timing import NotApplicable


def _case_function(group: GroupSpec) -> Callable[..., None]:
    def case(benchmark, mnist_case, mnist_variant, mnist_suite) -> None:
        try:
            record = mnist_suite.measure(benchmark, group, mnist_case, mnist_variant)
        except NotApplicable as exc:
            pytest.skip(str(exc))
        assert record.floor_passed, record.floor_message()
        assert not record.agreement_failed, (
            f"{record.model} on {record.runtime}: top-1 agreement with eager PyTorch {record.agreement:.3%} "
            f"({record.disagreements} of {record.outcome.test.total} test images differ, largest logit "
            f"difference {record.max_logit_diff:.3g}), below its floor {record.agreement_needed:.2%}"
        )

    case.__name__ = case.__qualname__ = group.test_name
    case.__doc__ = f"The {group.name!r} group: {group.description}."
    case.mnist_group = group.name  # how the plugin knows which group an item belongs to
    return pytest.mark.benchmark(group=group.name)(case)


def __getattr__(name: str):
    if name == "__all__":  # a star import takes every registered group's function
        return [group.test_name for group in GROUPS.specs()]
    group = GROUPS.by_test_name().get(name)
    if group is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = _case_function(group)
    globals()[name] = function
    return function
