"""bf16 mixed precision: whether this machine runs it fast, and a clear refusal where not.

On a CPU, `torch.autocast("cpu", dtype=torch.bfloat16)` is fast only with AMX or AVX-512
BF16 units. Without them, PyTorch's oneDNN LSTM has no bf16 kernel at all (the fit dies with
"could not create a primitive descriptor") and bf16 matrix products are emulated: measured on
an AVX2-only AMD EPYC, a 2x512 LSTM LM step ran ~30x slower than in fp32. Asking for bf16 there
is therefore refused with a message, unless `LIGHTNING_NLP_EMULATE_BF16=1` asks to run it
anyway, slowly, with the numerics of a bf16 CPU: oneDNN is switched off and the LSTM kernels
compute in bf16 by PyTorch's own code, returning bf16 outputs and states as oneDNN does on
AMX. For checking numerics (quality) and for tests, never for speed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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


def _to_bf16(x: Any) -> Any:
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return x.to(torch.bfloat16)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_bf16(t) for t in x)
    return x


def _bf16_lstm(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """`kernel` (an LSTM op) that under CPU bf16 autocast computes in bf16 and returns bf16
    outputs and states, as the oneDNN kernel does on AMX; unchanged otherwise."""

    @functools.wraps(kernel)
    def lstm(*args: Any) -> Any:
        if (
            not torch.is_autocast_enabled("cpu")
            or torch.get_autocast_dtype("cpu") != torch.bfloat16
        ):
            return kernel(*args)
        with torch.autocast("cpu", enabled=False):
            return kernel(*(_to_bf16(a) for a in args))

    lstm.emulates_bf16 = True  # type: ignore[attr-defined]
    return lstm


@contextlib.contextmanager
def emulated_bf16_kernels() -> Iterator[None]:
    """Within it, bf16 autocast runs without bf16 units, with their numerics: oneDNN off (its
    LSTM has no bf16 path here), LSTM ops (`nn.LSTM`'s and `torch.lstm`) in bf16. Everything
    is put back on exit, so fp32 runs later in the process keep oneDNN."""
    saved = torch.backends.mkldnn.enabled, torch.lstm, torch._VF.lstm
    torch.backends.mkldnn.enabled = False
    for owner in (torch, torch._VF):
        if not getattr(owner.lstm, "emulates_bf16", False):
            owner.lstm = _bf16_lstm(owner.lstm)
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled, torch.lstm, torch._VF.lstm = saved


def emulation_asked() -> bool:
    return os.environ.get(EMULATE_ENV, "") not in ("", "0")


def check_bf16(precision: str | None, device: str) -> bool:
    """Refuses a bf16 precision on a device without bf16 units, unless the emulation variable
    is set: then it warns and returns True, and the caller runs the bf16 work inside
    `emulated_bf16_kernels()`. False: nothing to emulate."""
    if not precision or not str(precision).startswith("bf16"):
        return False
    support = bf16_support(device)
    if support.supported:
        return False
    if not emulation_asked():
        raise PrecisionError(
            f"bf16 precision ({precision}) asked for, but {support.describe()}. Here the "
            "LSTM kernels have no bf16 path and bf16 matrix products are emulated, far slower "
            f"than fp32: use the default precision (32-true), or set {EMULATE_ENV}=1 to run "
            "it anyway, slowly (to check numerics). `lightning-nlp bf16` says what this "
            "machine supports."
        )
    log.warning(
        "%s: emulating bf16 (%s=1): oneDNN off and LSTMs in bf16 by PyTorch's own kernels "
        "for this run; expect it to be many times slower than fp32",
        support.describe(),
        EMULATE_ENV,
    )
    return True


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
