"""The architecture registry: names, patterns, parametric families, exact parameter counts."""

from __future__ import annotations

import pytest
from torch import nn

from mnist_models import count_parameters, create_model, get_spec, list_models, register_model, resolve_models
from mnist_models.models.registry import UnknownModelError, parse_model_name, unregister_model

NOTEBOOK_COUNTS = {
    "mlp_64": 50_890,
    "mlp_128_64": 109_386,
    "mlp_256_128": 235_146,
    "mlp_512_384_256_128_64": 739_274,
    "mlp_1024_128_64": 943_946,
    "mlp_1500_1024_256_128": 3_011_110,
    "cnn_32_64_fc128_64_32": 431_018,
    "cnn_32_64_fc64": 220_234,
    "cnn_64_128_fc150_64": 1_025_760,
    "cnn_128_256_fc256_128": 3_542_154,
}


@pytest.mark.parametrize(("name", "params"), NOTEBOOK_COUNTS.items())
def test_notebook_architecture_parameter_counts(name, params):
    assert count_parameters(create_model(name)) == params


def test_baselines_have_classic_sizes():
    assert count_parameters(create_model("linear")) == 784 * 10 + 10
    assert count_parameters(create_model("lenet5")) == 61_706


def test_list_models_is_sorted_and_filters_with_fnmatch():
    assert list_models("cnn_*") == sorted(n for n in NOTEBOOK_COUNTS if n.startswith("cnn_"))
    assert list_models("nothing*") == []
    assert list_models() == sorted(list_models())


def test_every_spec_has_family_description_and_profiles():
    for name in list_models():
        spec = get_spec(name)
        assert spec.family in ("linear", "mlp", "cnn")
        assert spec.description
        assert {"full", "quick", "smoke"} <= set(spec.profiles), name


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownModelError, match=r"unknown model 'resnet'.*mlp_64"):
        create_model("resnet")


def test_parametric_families_by_name_and_by_keywords():
    assert count_parameters(create_model("mlp(depth=3,width=32)")) == 784 * 32 + 32 + 2 * (32 * 32 + 32) + 330
    assert count_parameters(create_model("mlp", depth=1, width=64)) == NOTEBOOK_COUNTS["mlp_64"]
    model = create_model("cnn(channels=(8,16), hidden=32)")
    assert count_parameters(model) == (9 * 8 + 8) + (9 * 8 * 16 + 16) + (16 * 7 * 7 * 32 + 32) + (32 * 10 + 10)
    spec = get_spec("mlp(width=512, depth=4)")
    assert spec.display_name == "mlp(depth=4,width=512)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mlp(depth=)", "cannot parse"),
        ("mlp(4)", "must look like"),
        ("mlp(depth=__import__('os'))", "must be a literal"),
        ("mlp(height=3)", "bad arguments"),
        ("mlp_64(width=3)", "takes no arguments"),
        ("cnn(channels=(8,8,8,8,8))", "1 to 4 conv blocks"),
    ],
)
def test_bad_parametric_names_are_clear_errors(text, message):
    with pytest.raises(ValueError, match=message):
        get_spec(text)


def test_parse_model_name_is_literal_only():
    assert parse_model_name("cnn(channels=[16,32])") == ("cnn", {"channels": (16, 32)})
    assert parse_model_name(" mlp_64 ") == ("mlp_64", {})


def test_resolve_models_expands_patterns_in_order_without_duplicates():
    specs = resolve_models(["mlp_6*", "mlp_64", "cnn(channels=(8,))"])
    assert [s.display_name for s in specs] == ["mlp_64", "cnn(channels=(8,),dropout=0.25,hidden=128)"]
    # wildcards leave parametric families out; an exact name brings one in with its defaults
    assert "mlp" not in [s.name for s in resolve_models(["mlp*"])]
    assert [s.display_name for s in resolve_models(["mlp"])] == ["mlp(depth=2,width=128)"]
    with pytest.raises(UnknownModelError, match="no registered model matches 'vit\\*'"):
        resolve_models(["vit*"])


def test_user_registered_model_is_a_first_class_citizen():
    @register_model("mlp", "A user's tiny MLP", profiles={"smoke": {"floor": 0.0}})
    def user_tiny_mlp() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    try:
        assert "user_tiny_mlp" in list_models("user_*")
        assert count_parameters(create_model("user_tiny_mlp")) == 7850
        with pytest.raises(ValueError, match="clashes with the model of that name from module"):
            register_model("mlp", "clash", name="user_tiny_mlp")(lambda: nn.Linear(1, 1))
    finally:
        unregister_model("user_tiny_mlp")
    assert "user_tiny_mlp" not in list_models()


def test_bad_family_is_rejected():
    with pytest.raises(ValueError, match="family must be one of"):
        register_model("transformer", "nope", name="bad_family")(lambda: nn.Linear(1, 1))
