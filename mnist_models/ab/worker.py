"""One side of an A/B comparison: ``python -m mnist_models.ab.worker``, run inside that side's tree.

Reads its settings as one JSON line on stdin, opens a session as the pytest plugin does
(``bench.session.open_session``: weights from the cache, trained once if missing), answers
with what it measures, then times one block per request: ``{"case": benchmark id, "rounds": n}`` (the protocol's word since its first version) ->
``{"times": [...]}``. ``{"finish": true}`` -> the side's run, as pytest-benchmark JSON made by
pytest-benchmark's own serialisation, and the matmul peaks it measured (or was given, as ``"peaks"`` in
its settings line: a replacement process takes its side's first process's peaks). Anything the code prints goes to stderr; stdout
carries the protocol. Settings it cannot use are answered with ``{"error": message}``.

The suite's modules (and torch) are imported inside the functions, after ``main`` has moved
stdout aside: nothing an import prints can reach the protocol.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

from .protocol import CURRENT

MIN_BLOCK_S = 0.02  # a block's timed work at least (batch-1 latency: some 60 rounds)


def _settings(message: dict):
    """The session's settings: ``message["settings"]``, or the flat keys an older coordinator sends."""
    from ..bench.settings import SuiteSettings

    if "settings" in message:
        return SuiteSettings.from_json(message["settings"])
    keys = ("profile", "models", "seeds", "dataset", "data_dir", "cache_dir", "device", "threads", "slowdown")
    return SuiteSettings.from_json({k: message[k] for k in keys if message.get(k) is not None})


def _build(message: dict):
    """The session and every benchmark it times: id -> (group, case, variant, times)."""
    from ..bench.session import open_session
    from ..results.groups import GROUPS

    known = message.get("peaks")
    peaks = (known["fp32"], known["bf16"]) if known else None
    session = open_session(_settings(message), mode="ab-worker", peaks=peaks)
    benchmarks = {}
    for case in session.plan.cases:
        session.weights.get(case)  # trained now if neither this session nor the cache has them
        for group in map(GROUPS.get, message["groups"]):
            for variant in group.variant_values(session.plan):
                benchmarks[f"{group.name}/{group.param(case.id, variant)}"] = (group, case, variant, [])
    return session, benchmarks


def _facts(session, benchmarks) -> dict:
    import torch

    data = session.data
    return {
        "ready": True,
        "protocol": int(CURRENT),  # its versions: ab/protocol.py
        "cases": sorted(benchmarks),
        "dataset": data.name,
        "checksum": data.checksum,
        "sizes": [len(data.y_train), len(data.y_val), len(data.y_test)],
        "profile": session.plan.profile.name,
        "profile_settings": {k: v for k, v in vars(session.plan.profile).items() if k != "description"},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.executable,
    }


def _block(session, group, case, variant, rounds: int):
    """One block: a fresh timed call on fresh copies of the weights and inputs, warmed up, then ``rounds``.

    Fresh copies each block, because where tensors land in memory moves speed a lot: the same
    batch-512 CNN forward took 34 or 60 ms in one process depending on the copy (measured,
    2-core EPYC). Built once, a side would keep its layout's luck for the whole comparison;
    rebuilt per block, the luck is drawn anew each time and averages out over the pairs.
    """
    call = session.timed_call(group, case, variant)
    start = time.perf_counter()
    call.run()  # one warm-up call, outside the block's times
    warmed = time.perf_counter() - start
    # short calls: enough rounds for MIN_BLOCK_S of timed work, so a block's median is stable
    rounds = max(rounds, math.ceil(MIN_BLOCK_S / max(warmed, 1e-9)))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call.run()  # every timed call synchronises the device before it returns
        times.append(time.perf_counter() - start)
    return call, times


def _run_json(session, benchmarks, last, side: str) -> dict:
    from ..bench.run_json import run_document

    timed = []
    for name, (group, case, variant, times) in benchmarks.items():
        if not times:  # decided before this process started: its blocks are another process's
            continue
        record = session.record(group, case, last[name], times)
        case_name = case.id
        timed.append(
            {
                "name": group.benchmark_name(case_name, variant),
                "group": group.name,
                "param": group.param(case_name, variant),
                "record": record,
                "times": times,
            }
        )
    run = run_document(session, timed, f"mnist-models ab ({side})")
    for bench in run["benchmarks"]:
        bench["extra_info"]["ab_side"] = side
    return run


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (tqdm, warnings) go to stderr, never into the protocol
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")

    message = json.loads(sys.stdin.readline())
    try:
        session, benchmarks = _build(message)
    except (ValueError, KeyError) as exc:  # settings it cannot resolve (unknown model, group, device...)
        send({"error": str(exc).strip("'\"")})
        return 2
    last: dict = {}  # each benchmark's latest timed call, whose fields (batch, steps...) go into the record
    send(_facts(session, benchmarks))
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("finish"):
            run = _run_json(session, benchmarks, last, message["side"])
            send({"run": run, "peaks": {"fp32": session.final_peaks(), "bf16": session.bf16_peak}})
            return 0
        group, case, variant, times = benchmarks[request["case"]]
        call, block = _block(session, group, case, variant, request["rounds"])
        times.extend(block)
        last[request["case"]] = call
        send({"times": block})
    return 0


if __name__ == "__main__":
    sys.exit(main())
