"""bf16 mixed precision: whether this machine runs it fast, and a clear refusal where not.

On a CPU, `torch.autocast("cpu", dtype=torch.bfloat16)` is fast only with AMX or AVX-512
BF16 units. Without them, PyTorch's oneDNN LSTM has no bf16 kernel at all (the fit dies with
"could not create a primitive descriptor") and bf16 matrix products are emulated: measured on
an AVX2-only AMD EPYC, a 2x512 LSTM LM step ran ~30x slower than in fp32. Asking for bf16 there
is therefore refused with a message, unless `LIGHTNING_NLP_EMULATE_BF16=1` asks to run it
anyway, slowly (oneDNN is switched off so the LSTMs take PyTorch's own kernels): for checking
numerics and for tests, never for speed.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)
EMULATE_ENV = "LIGHTNING_NLP_EMULATE_BF16"


class PrecisionError(ValueError):
    """bf16 was asked for on hardware that cannot run it well."""


@dataclass(frozen=True)
class Bf16Support:
    device: str  # "cpu" or "cuda"
    name: str  # processor or GPU name
    units: str  # what runs bf16 here: "AMX", "AVX-512 BF16", "CUDA", or "" for nothing
    capability: str  # PyTorch's CPU capability ("AVX2", "AVX512", ...) or the GPU's sm_XY

    @property
    def supported(self) -> bool:
        return bool(self.units)

    def describe(self) -> str:
        if self.supported:
            return f"{self.name}: bf16 runs on {self.units} ({self.capability})"
        return f"{self.name}: no bf16 units (neither AMX nor AVX-512 BF16; {self.capability})"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def bf16_support(device: str = "cpu") -> Bf16Support:
    """What this machine's CPU (or current GPU) offers for bf16."""
    if device == "cuda":
        major, minor = torch.cuda.get_device_capability()
        units = "CUDA" if torch.cuda.is_bf16_supported(including_emulation=False) else ""
        return Bf16Support("cuda", torch.cuda.get_device_name(), units, f"sm_{major}{minor}")
    if torch.cpu._is_amx_tile_supported():
        units = "AMX"
    elif torch.cpu._is_avx512_bf16_supported():
        units = "AVX-512 BF16"
    else:
        units = ""
    return Bf16Support("cpu", _cpu_name(), units, torch.backends.cpu.get_cpu_capability())


def emulation_asked() -> bool:
    return os.environ.get(EMULATE_ENV, "") not in ("", "0")


def check_bf16(precision: str | None, device: str) -> None:
    """Refuses a bf16 precision on a device without bf16 units (or, with the emulation
    variable set, warns and makes it run: oneDNN off, so LSTMs use PyTorch's kernels)."""
    if not precision or not str(precision).startswith("bf16"):
        return
    support = bf16_support(device)
    if support.supported:
        return
    if not emulation_asked():
        raise PrecisionError(
            f"--trainer.precision {precision} asked for, but {support.describe()}. Here the "
            "LSTM kernels have no bf16 path and bf16 matrix products are emulated, far slower "
            f"than fp32: use the default precision (32-true), or set {EMULATE_ENV}=1 to run "
            "it anyway, slowly (to check numerics). `lightning-nlp bf16` says what this "
            "machine supports."
        )
    if torch.backends.mkldnn.enabled:
        log.warning(
            "%s: emulating bf16 (%s=1): oneDNN switched off for this process; expect it to "
            "be many times slower than fp32",
            support.describe(),
            EMULATE_ENV,
        )
        torch.backends.mkldnn.enabled = False


def bf16_command(args: list[str]) -> Bf16Support:
    """`lightning-nlp bf16`: prints whether this machine runs bf16 mixed precision fast."""
    device = "cuda" if torch.cuda.is_available() and "--cpu" not in args else "cpu"
    support = bf16_support(device)
    advice = (
        "use --trainer.precision bf16-mixed for training, evaluation and predict, and "
        "--precision bf16-mixed for generate"
        if support.supported
        else "keep the default precision (32-true): bf16 would be refused here"
    )
    print(f"{support.describe()}\n{advice}")  # noqa: T201
    return support
