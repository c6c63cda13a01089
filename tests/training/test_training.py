"""Training and evaluation: protocol defaults, early stopping that restores, determinism, metrics, FLOPs."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from statsmodels.stats.proportion import proportion_confint
from torch import nn

from mnist_models import TrainConfig, create_model, evaluate, inference_flops, train, training_flops, wilson_interval
from mnist_models.results.outcome import EpochRecord
from mnist_models.training.device import check_precision
from mnist_models.training.stepper import make_optimizer, make_stepper


def test_default_config_is_the_notebook_protocol():
    config = TrainConfig()
    assert (config.optimizer, config.lr, config.batch_size) == ("adam", 1e-3, 64)
    assert (config.max_epochs, config.patience, config.restore_best) == (100, 10, True)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"unknown training setting\(s\) \['epochs'\]"):
        TrainConfig().updated({"epochs": 3})


def _train(data, name="mlp_64", seed=0, **settings):
    torch.manual_seed(seed)
    model = create_model(name)
    return train(model, data, TrainConfig(seed=seed, **settings), bar=False)


def test_history_and_honest_time_accounting(tiny):
    result = _train(tiny, max_epochs=2)
    assert [r.epoch for r in result.history] == [1, 2]
    first = result.history[0]
    assert isinstance(first, EpochRecord)
    assert 0 < first.train_acc <= 1
    assert 0 < first.val_acc <= 1
    assert first.train_time_s > 0
    assert first.eval_time_s > 0
    assert result.train_time_s == pytest.approx(sum(r.train_time_s for r in result.history))
    assert result.stop_reason == "max_epochs"


def test_same_seed_same_weights_and_predictions(tiny):
    a, b = _train(tiny, max_epochs=2), _train(tiny, max_epochs=2)
    for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert np.array_equal(
        evaluate(a.model, tiny.x_test, tiny.y_test).predictions, evaluate(b.model, tiny.x_test, tiny.y_test).predictions
    )
    c = _train(tiny, seed=1, max_epochs=2)
    assert not torch.equal(a.model[1].weight, c.model[1].weight)


def test_early_stopping_restores_a_real_copy_of_the_best_weights(tiny):
    # A learning rate far too high makes validation loss bounce; patience 2 stops early.
    result = _train(tiny, name="mlp_256_128", lr=0.05, patience=2, max_epochs=30)
    losses = [r.val_loss for r in result.history]
    assert result.stop_reason == "early_stopping"
    assert result.best_epoch == 1 + int(np.argmin(losses))
    assert result.epochs_run == result.best_epoch + 2
    restored_loss = evaluate(result.model, tiny.x_val, tiny.y_val).loss
    assert restored_loss == pytest.approx(min(losses), rel=1e-5)
    assert restored_loss < losses[-1]  # the last epoch's weights were not kept
    # ...but a copy of them comes back, for the notebook's (last-epoch) figures
    last = create_model("mlp_256_128")
    last.load_state_dict(result.last_state)
    assert evaluate(last, tiny.x_val, tiny.y_val).loss == pytest.approx(losses[-1], rel=1e-5)


def test_without_restore_the_last_epoch_is_kept(tiny):
    result = _train(tiny, name="mlp_256_128", lr=0.05, patience=2, max_epochs=30, restore_best=False)
    assert result.best_epoch == result.epochs_run
    assert result.last_state is None  # the model holds the last epoch's weights already
    assert evaluate(result.model, tiny.x_val, tiny.y_val).loss == pytest.approx(result.history[-1].val_loss, rel=1e-5)


def test_time_cap_and_time_to_accuracy(tiny):
    result = _train(tiny, max_epochs=50, max_time_s=1e-9, accuracy_targets=(0.5, 0.999))
    assert result.stop_reason == "max_time"
    assert result.epochs_run == 1
    assert result.time_to_accuracy["0.5"] == pytest.approx(result.history[0].train_time_s)
    assert result.time_to_accuracy["0.999"] is None


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_schedules_change_the_learning_rate(tiny, schedule):
    result = _train(tiny, max_epochs=2, schedule=schedule, optimizer="sgd", lr=0.1)
    assert result.history[0].lr != result.history[1].lr


def test_evaluation_metrics_agree_with_hand_computation():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.eye(3, 4))
    x = torch.eye(4)[[0, 1, 2, 3, 0, 1]].reshape(6, 1, 2, 2)  # predicts 0,1,2,0(tie->0),0,1
    y = torch.tensor([0, 1, 2, 2, 0, 0])
    result = evaluate(model, x, y, classes=3)
    assert result.predictions.tolist() == [0, 1, 2, 0, 0, 1]
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.confusion == ((2, 1, 0), (0, 1, 0), (1, 0, 1))
    assert result.per_class_accuracy == pytest.approx((2 / 3, 1.0, 0.5))
    assert result.precision == pytest.approx((2 / 3, 0.5, 1.0))
    assert result.f1[1] == pytest.approx(2 * 0.5 * 1.0 / 1.5)


@pytest.mark.parametrize(("k", "n"), [(9805, 10000), (0, 50), (50, 50), (7, 13)])
def test_wilson_interval_matches_statsmodels(k, n):
    expected = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert wilson_interval(k, n) == pytest.approx(expected, abs=1e-12)


def test_wilson_interval_by_hand():
    # p=0.98, n=10000, z=1.959964: centre (p + z²/2n)/(1+z²/n), half width z/(1+z²/n)·sqrt(p(1-p)/n + z²/4n²)
    z, n, p = 1.959963984540054, 10000, 0.98
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_interval(9800, n) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_flops_of_a_small_model_by_hand():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    forward = 2 * 784 * 32 + 2 * 32 * 10
    assert inference_flops(model) == forward
    # backward: weight gradients of both layers, plus the input gradient of the second layer only
    assert training_flops(model) == forward + (2 * 784 * 32 + 2 * 32 * 10) + 2 * 32 * 10


def test_conv_flops_by_hand():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 28 * 28, 10))
    conv = 2 * 9 * 1 * 4 * 28 * 28
    assert inference_flops(model) == conv + 2 * 3136 * 10


def test_fused_optimiser_by_default_foreach_on_request():
    model = create_model("mlp_64")
    assert make_optimizer(model, TrainConfig()).defaults["fused"] is True
    plain = make_optimizer(model, TrainConfig(fused=False)).defaults
    assert not plain["fused"]
    assert plain["foreach"] is True
    assert make_optimizer(model, TrainConfig(optimizer="sgd")).defaults["fused"] is True


def test_precision_is_checked_against_the_device():
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp8")
    with pytest.raises(ValueError, match="fp16 autocast needs a CUDA or MPS device, not cpu; use bf16 or fp32"):
        check_precision("fp16", torch.device("cpu"))
    check_precision("bf16", torch.device("cpu"))


def test_warm_up_leaves_weights_buffers_and_optimiser_untouched(tiny):
    torch.manual_seed(0)
    model = create_model("speedrun_cnn")  # batch norm: running statistics are buffers
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stepper = make_stepper(model, tiny, TrainConfig(batch_size=96, schedule="onecycle", max_epochs=2))
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert not stepper.optimizer.state  # no step taken by the real optimiser
    assert stepper.scheduler.last_epoch == 0
    assert stepper.compile_time_s is None


def test_warmed_up_stepper_trains_exactly_like_a_fresh_one(tiny):
    def run(warm: bool):
        torch.manual_seed(0)
        model = create_model("mlp_64")
        config = TrainConfig(max_epochs=1)
        return train(model, tiny, config, bar=False, stepper=make_stepper(model, tiny, config, warm_up=warm))

    a, b = run(True), run(False)
    assert torch.equal(a.model[1].weight, b.model[1].weight)


def test_bf16_autocast_trains_on_the_cpu(tiny):
    result, fp32 = _train(tiny, precision="bf16", max_epochs=2), _train(tiny, max_epochs=2)
    assert result.history[-1].val_acc > 0.5
    assert result.history[-1].val_acc == pytest.approx(fp32.history[-1].val_acc, abs=0.05)
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # autocast keeps fp32 master weights


@pytest.mark.slow
@pytest.mark.slow
def test_compile_is_timed_apart_from_training(tiny):
    plain = _train(tiny, max_epochs=1)
    compiled = _train(tiny, compile=True, max_epochs=1)
    assert plain.compile_time_s is None
    assert compiled.compile_time_s > 0
    # compiled kernels may round differently; the model learns the same
    assert compiled.history[0].val_acc == pytest.approx(plain.history[0].val_acc, abs=0.03)


def test_progress_inside_an_epoch_is_kept_off_the_training_clock(tiny):
    seen = []

    def slow_display(state):
        seen.append(state)
        time.sleep(0.02)  # a display far slower than a step of this tiny model

    def run(**display):
        torch.manual_seed(0)
        return train(create_model("linear"), tiny, TrainConfig(max_epochs=1), bar=False, **display)

    plain = run()
    start = time.perf_counter()
    shown = run(on_progress=slow_display, progress_every_s=0.0)
    wall = time.perf_counter() - start
    steps = -(-len(tiny.y_train) // 64)
    assert len(seen) == steps
    assert seen[-1].images == len(tiny.y_train)
    assert (seen[3].epoch, seen[3].images) == (1, 4 * 64)
    assert seen[3].images_per_s > 0
    # 0.02 s of display per step were not counted as training: the epoch's clock left out at least that much of
    # the run's wall time (an invariant however busy the machine is, unlike a comparison with another run)
    assert shown.history[0].train_time_s <= wall - 0.02 * steps
    assert torch.equal(shown.model[1].weight, plain.model[1].weight)


def test_the_peak_probe_leaves_out_a_size_it_could_not_time_in_its_window(monkeypatch):
    """A product that would take longer than the window at the rate measured so far is not made (a CPU without
    native bf16 spent some 9 s on each 2048-square bf16 product, four of them per probe)."""
    from mnist_models.training import device as device_module

    made = []
    real = torch.randn

    def randn(*shape, **kwargs):
        made.append(shape[0])
        return real(*shape, **kwargs)

    monkeypatch.setattr(device_module.torch, "randn", randn)
    peak = device_module.matmul_peak_flops(torch.device("cpu"), sizes=(64, 8192), min_time_s=0.03)
    assert peak > 0
    assert 8192 not in made  # 1.1 TFLOP per product: beyond any CPU's 0.03 s
    assert 64 in made
