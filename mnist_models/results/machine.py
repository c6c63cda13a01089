"""What a saved run says about the machine it ran on: the facts that decide its speed, and its identity.

Times are evidence only beside times from the same machine identity (CPU model and ISA flags,
threads, device, torch build): the history never mixes identities in one series, and a time
rule against a stored run is refused unless both runs share one.
"""

from __future__ import annotations

from typing import Any

ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def _info(machine_info: dict[str, Any]) -> tuple[dict, dict]:
    info = machine_info or {}
    return info.get("cpu") or {}, info.get("mnist_models") or {}


def isa(machine_info: dict[str, Any]) -> str:
    cpu, _ = _info(machine_info)
    return " ".join(f for f in ISA_FLAGS if f in (cpu.get("flags") or [])) or "?"


def identity(machine_info: dict[str, Any]) -> dict[str, str]:
    """The facts two runs must share for their times to be compared."""
    cpu, ours = _info(machine_info)
    return {
        "CPU": str(cpu.get("brand_raw") or (machine_info or {}).get("processor") or "?"),
        "ISA": isa(machine_info),
        "device": str(ours.get("device_name") or ours.get("device") or "?"),
        "threads": str(ours.get("threads", "?")),
        "torch": str(ours.get("torch", "?")),
    }


def identity_key(machine_info: dict[str, Any]) -> str:
    """``identity`` as one readable string, for grouping series and naming them."""
    facts = identity(machine_info)
    where = facts["CPU"] if facts["device"] in ("?", facts["CPU"]) else f"{facts['device']} on {facts['CPU']}"
    return f"{where} · {facts['ISA']} · {facts['threads']} threads · torch {facts['torch']}"


def _gflops(value: Any) -> str:
    return f"{value / 1e9:.0f} GFLOP/s" if isinstance(value, (int, float)) and value > 0 else "?"


def facts(machine_info: dict[str, Any], when: str = "") -> dict[str, str]:
    """``identity`` plus the measured and nominal peaks and the time, for showing two runs side by side."""
    _, ours = _info(machine_info)
    out = identity(machine_info)
    out["measured fp32 matmul peak"] = _gflops(ours.get("matmul_peak_flops"))
    out["nominal fp32 peak"] = _gflops(ours.get("nominal_peak_flops"))
    out["run at"] = str(when or "?")[:19]
    return out


def peaks(machine_info: dict[str, Any]) -> str:
    """The peaks a time's efficiency is read against: the measured fp32 matmul peak with its spread over the
    session's probes, the nominal peak on paper, and the bf16 one where the processor has bf16 (on a CPU without
    it the bf16 probe times an emulation: the report names the benchmarks read against it instead)."""
    _, ours = _info(machine_info)
    probes = [p for p in ours.get("matmul_peak_measurements") or [] if isinstance(p, (int, float))]
    if probes:
        spread = f"{min(probes) / 1e9:.0f}–{max(probes) / 1e9:.0f}" if len(probes) > 1 else f"{probes[0] / 1e9:.0f}"
        text = f"measured fp32 matmul peak {spread} GFLOP/s ({len(probes)} probe{'s' if len(probes) > 1 else ''})"
    else:
        text = f"measured fp32 matmul peak {_gflops(ours.get('matmul_peak_flops'))}"
    text += f", nominal {_gflops(ours.get('nominal_peak_flops'))}"
    if ours.get("matmul_peak_bf16_flops") and has_bf16(machine_info):
        text += f", bf16 {_gflops(ours['matmul_peak_bf16_flops'])}"
    return text


def has_bf16(machine_info: dict[str, Any]) -> bool:
    """Whether bf16 matmuls run natively: a GPU, or a CPU with AVX-512 BF16 or AMX."""
    _, ours = _info(machine_info)
    if str(ours.get("device", "cpu")) != "cpu":
        return True
    return any(flag in isa(machine_info) for flag in ("bf16", "amx"))


def header(machine_info: dict[str, Any]) -> str:
    """One line naming what a time was measured on: the CPU (or GPU on the CPU), ISA flags, threads, torch, peaks."""
    facts = identity(machine_info)
    where = facts["CPU"] if facts["device"] in ("?", facts["CPU"]) else f"{facts['device']} on {facts['CPU']}"
    return f"{where} ({facts['ISA']}), {facts['threads']} threads, torch {facts['torch']}; {peaks(machine_info)}"


def this_cpu() -> str:
    """This machine's CPU as scripts name it beside a figure: model, the ISA flags that move times, cores.

    Read from /proc/cpuinfo (Linux); elsewhere the processor name Python knows, or the architecture.
    """
    import platform
    from pathlib import Path

    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    cores = sum(1 for line in lines if line.startswith("processor"))
    return f"{model} ({', '.join(f for f in ISA_FLAGS if f in flags)}), {cores} cores"
