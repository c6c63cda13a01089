"""Settings: parsed once (converters), resolved once (``resolve_training``), each value's source recorded."""

from __future__ import annotations

import argparse

import pytest

from mnist_models.bench.config import resolve_training
from mnist_models.bench.levers import get_lever
from mnist_models.bench.profiles import PROFILES
from mnist_models.bench.settings import (
    SuiteSettings,
    parse_dataset,
    parse_percent,
    parse_precision,
    parse_profile,
    parse_seeds,
    positive_int,
    split_names,
    split_patterns,
)
from mnist_models.models.registry import get_spec


def test_each_layer_overrides_the_ones_before_and_says_so():
    speedrun = get_spec("speedrun_cnn")  # the architecture sets its own recipe
    plain = resolve_training(PROFILES["quick"], speedrun, 3)
    assert plain.config.seed == 3
    assert plain.sources["lr"] == "architecture"
    assert plain.sources["max_epochs"] == "profile quick"  # the architecture says 1 too; the profile comes later
    assert plain.sources["patience"] == "profile quick"
    assert "optimizer" not in plain.sources  # the protocol's default: no source to name
    lever = get_lever("bf16-autocast")
    varied = resolve_training(
        PROFILES["quick"], speedrun, 0, precision="fp32", group=("train-step", {"schedule": "constant"}), lever=lever
    )
    assert varied.config.precision == "bf16"
    assert varied.sources["precision"] == "lever bf16-autocast"  # the lever comes last
    assert varied.config.schedule == "constant"  # the architecture's onecycle, then the group's constant:
    assert "schedule" not in varied.record()  # back to the protocol's default, so nothing to name
    smoke = resolve_training(PROFILES["smoke"], get_spec("mlp_64"), 0, compile=True)
    assert smoke.record() == {
        "max_epochs": {"value": 1, "source": "profile smoke"},
        "patience": {"value": None, "source": "profile smoke"},
        "compile": {"value": True, "source": "options"},
    }


def test_settings_travel_as_json_and_come_back_the_same():
    settings = SuiteSettings(profile="smoke", models=("mlp_*", "cnn(channels=(8,))"), seeds=(0, 2), shard=(1, 2))
    assert SuiteSettings.from_json(settings.to_json()) == settings
    assert SuiteSettings.from_json({"profile": "full", "unknown": 1}) == SuiteSettings(profile="full")


@pytest.mark.parametrize(
    ("convert", "text", "value"),
    [
        (parse_seeds, "0-2,5", (0, 1, 2, 5)),
        (split_patterns, "mlp(depth=2,width=8),cnn_*", ("mlp(depth=2,width=8)", "cnn_*")),
        (split_names, " eager, onnxruntime ,eager", ("eager", "onnxruntime")),
        (parse_percent, "+25%", 0.25),
        (positive_int, "3", 3),
        (parse_profile, "smoke", "smoke"),
        (parse_dataset, "fashion-mnist", "fashion-mnist"),
        (parse_precision, "bf16", "bf16"),
    ],
)
def test_converters(convert, text, value):
    assert convert(text) == value


@pytest.mark.parametrize(
    ("convert", "text", "message"),
    [
        (parse_seeds, "1,x", "'x' is not a seed"),
        (parse_seeds, "3-1", "empty range"),
        (parse_percent, "25", "is not a percentage"),
        (positive_int, "0", "must be above 0"),
        (positive_int, "two", "is not a whole number"),
        (parse_profile, "fast", "unknown profile 'fast'; profiles are smoke, quick, full"),
        (parse_dataset, "cifar", "unknown dataset 'cifar'; datasets are mnist, fashion-mnist"),
        (parse_precision, "fp8", "precisions are fp32, bf16, fp16"),
    ],
)
def test_converters_refuse_with_the_choices(convert, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        convert(text)
