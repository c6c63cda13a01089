"""The ``train`` group's runner: the profile's whole training run, once."""

from __future__ import annotations

from ...bench.context import RunContext
from ...bench.plan import Case
from ...bench.timing import TimedCall


def run(context: RunContext, case: Case, variant=None) -> TimedCall:
    """The profile's whole training run, once; a fresh model, compiled and warmed up in ``setup``."""
    weights, world = context.weights, context.plan.world

    def finish(result):
        trained = weights.finish_training(case, result)
        rate = len(context.data.y_train) * result.epochs_run / result.train_time_s  # every process together
        fields = {
            "batch_size": result.config.batch_size,
            "images_per_s": rate,
            "images_per_s_per_process": rate / world.size,
            "world_size": world.size,
            "backend": world.backend,
            "compile_time_s": result.compile_time_s,
        }
        return trained, fields

    return TimedCall(
        run=lambda *prepared: weights.run_training(case, *prepared),
        rounds=1,
        warmup_rounds=0,
        images=0,  # the rate is the training loop's own (finish), not the round's
        flops_per_image=context.facts(case).flops_train_step,
        setup=lambda: (weights.prepare_training(case), {}),
        finish=finish,
    )
