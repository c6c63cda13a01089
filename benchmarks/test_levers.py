"""The levers group: each engine setting changed on its own, timed next to the unchanged case.

Runs only with ``--mnist-levers``, e.g.
``pytest benchmarks --benchmark-only --mnist-levers -k levers --mnist-models 'mlp_64,cnn_32_64_fc64'``.
"""

from __future__ import annotations

import pytest

from mnist_models.levers import LEVER_NAMES, get_lever
from mnist_models.suite import timing_summary


@pytest.mark.mnist_levers
@pytest.mark.benchmark(group="levers")
@pytest.mark.parametrize("lever_name", LEVER_NAMES)
def test_levers(benchmark, mnist_case, mnist_suite, trained_model, lever_name):
    """One variant of the train-step or throughput case (see mnist_models.levers)."""
    spec, seed = mnist_case
    lever = get_lever(lever_name)
    config = mnist_suite.config
    settings = mnist_suite.train_config(spec, seed)
    why_not = lever.applies(trained_model.model, config.threads, settings.precision, settings.compile)
    if why_not:
        pytest.skip(f"{lever.name}: {why_not}")
    run, fields = mnist_suite.lever_runner(spec, seed, trained_model, lever)
    rounds = config.profile.step_rounds if lever.case == "train-step" else config.profile.throughput_rounds
    benchmark.pedantic(run, rounds=rounds, warmup_rounds=1)
    stats = benchmark.stats.stats.data if benchmark.stats else []
    timing = timing_summary(list(stats), fields.pop("images_per_round"), fields.pop("flops_per_image"))
    ratio = mnist_suite.lever_ratio(spec, seed, lever, timing.get("images_per_s"))
    record = mnist_suite.record("levers", spec, seed, trained_model, lever=lever.name, lever_ratio=ratio,
                                threads=lever.threads or config.threads, **fields, **timing)  # fmt: skip
    benchmark.extra_info.update(record.to_json())
