"""This checkout's pytest wiring, for both of its test folders.

- ``tests/`` (the project's own tests) runs with warnings as errors; ``benchmarks/`` (the
  suite) keeps pytest's defaults, so that a library's deprecation warning never aborts a
  user's benchmark run. One policy, decided here, where both folders meet.
- ``pytester`` (plugin tests run whole pytest sessions) is enabled here: pytest accepts
  ``pytest_plugins`` only in the root conftest.
- Every session's header names the data root and weight cache it will use, so that a CI
  log says where the data came from and where trained weights went.

The mnist-models plugin itself is not registered here: the installed package's
``pytest11`` entry point does that, exactly as in a user's project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent / "tests"


def pytest_report_header(config: pytest.Config) -> str:
    from mnist_models.bench.settings import default_cache_dir
    from mnist_models.data.sources import default_data_root

    data = config.getoption("mnist_data_dir", None) or default_data_root()
    cache = config.getoption("mnist_cache_dir", None) or default_cache_dir()
    return f"mnist-models checkout: data root {data}, weight cache {cache}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TESTS in Path(item.path).parents:
            # warnings are errors, but for one that only older releases raise inside torch's own imports
            # (torch 2.5's dynamo importing onnxscript 0.2: tox -e lowest)
            item.add_marker(
                pytest.mark.filterwarnings("error", "ignore:'onnxscript.values.*param_schemas':FutureWarning")
            )
