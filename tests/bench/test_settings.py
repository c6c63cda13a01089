"""Settings: declared once (one option per field), parsed once (converters), resolved once per case
(``resolve_training``), each value's source recorded; architecture settings typed."""

from __future__ import annotations

import argparse

import pytest

from mnist_models.bench.plan import resolve_training
from mnist_models.bench.profiles import PROFILES
from mnist_models.bench.settings import SuiteSettings, parse_dataset, parse_precision, parse_profile
from mnist_models.groups.levers.levers import get_lever
from mnist_models.models.registry import get_spec, register_model, unregister_model
from mnist_models.parse import SeedPlan, parse_percent, parse_seeds, positive_int, split_names, split_patterns


def test_each_layer_overrides_the_ones_before_and_says_so():
    speedrun = get_spec("speedrun_cnn")  # the architecture sets its own recipe
    plain = resolve_training(PROFILES["quick"], speedrun, 3)
    assert plain.config.seed == 3
    assert plain.sources["lr"] == "architecture"
    assert plain.sources["max_epochs"] == "profile quick"  # the architecture says 1 too; the profile comes later
    assert plain.sources["patience"] == "profile quick"
    assert "optimizer" not in plain.sources  # the protocol's default: no source to name
    lever = get_lever("bf16-autocast")
    resolved = resolve_training(PROFILES["quick"], speedrun, 0, precision="fp32")
    varied = resolved.with_layer("group train-step", {"schedule": "constant"}).with_layer("lever bf16-autocast",
                                                                                          lever.train)  # fmt: skip
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
        (parse_seeds, "auto:8", SeedPlan(8, None, "auto:8")),
        (parse_seeds, "auto:6,20m", SeedPlan(6, 1200.0, "auto:6,20m")),
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
        (parse_seeds, "auto:1", "use auto:N with N >= 2"),
        (parse_seeds, "auto:4,soon", "'soon' is not a duration"),
        (parse_percent, "25", "is not a percentage"),
        (positive_int, "0", "must be above 0"),
        (positive_int, "two", "is not a whole number"),
        (parse_profile, "fast", "unknown profile 'fast'; profiles are smoke, quick, full"),
        (parse_dataset, "../cifar", "is not a dataset name"),  # a registered name is checked at resolve
        (parse_precision, "fp8", "precisions are fp32, bf16, fp16"),
    ],
)
def test_converters_refuse_with_the_choices(convert, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        convert(text)


def test_auto_seeds_travel_as_json_too():
    settings = SuiteSettings(seeds=parse_seeds("auto:5,90s"))
    assert SuiteSettings.from_json(settings.to_json()) == settings


def test_a_typo_in_an_architecture_profile_setting_is_an_error_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown setting.*'epoch'.*valid: epochs, floor, floor\[<dataset>\]"):
        register_model("mlp", "a typo", name="typo_model", profiles={"quick": {"epoch": 2}})(lambda: None)
    assert "typo_model" not in __import__("mnist_models").list_models()
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        register_model("mlp", "bad epochs", name="typo_model", profiles={"quick": {"epochs": "2"}})(lambda: None)


def test_architecture_profile_settings_are_typed():
    register_model("mlp", "typed", name="typed_model",
                   profiles={"quick": {"epochs": 2, "floor": 0.9, "floor[fashion-mnist]": 0.8, "floor_reason": "why"}})(
        lambda: None
    )  # fmt: skip
    try:
        spec = get_spec("typed_model")
        assert spec.profile("quick").epochs == 2
        assert (spec.floor("quick"), spec.floor("quick", "fashion-mnist"), spec.floor_reason("quick")) == (
            0.9,
            0.8,
            "why",
        )
        assert spec.floor("full") is None
        assert spec.profile("full").epochs is None
    finally:
        unregister_model("typed_model")
