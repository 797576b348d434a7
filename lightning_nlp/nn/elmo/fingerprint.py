"""A module's weights as one hash, recomputed only when a tensor may have changed: what the ELMo
layer cache keys its files by (with the code and the precision)."""

from __future__ import annotations

import hashlib

import torch
from torch import nn


def hash_weights(module: nn.Module) -> str:
    """A hash of a module's arguments (`init_args`), parameters and buffers (all bytes read)."""
    digest = hashlib.sha256(repr(getattr(module, "init_args", None)).encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:24]


class WeightsFingerprint:
    """`hash_weights(module)`, computed once and again only when a tensor may have changed:
    one replaced (`.to()`, loading with `assign`, `.data = ...`) or updated in place (its
    version counter moves: `load_state_dict`, an optimiser step, `copy_` or `add_` under
    `no_grad`). Switching between training and evaluation hashes nothing again. An edit
    through `.data` (`p.data.add_(1)`) moves no counter: call `reset()` after one."""

    def __init__(self) -> None:
        self._seen: tuple | None = None
        self._digest = ""

    def reset(self) -> None:
        self._seen = None

    def __call__(self, module: nn.Module) -> str:
        seen = tuple(
            (name, t.data_ptr(), t._version, t.dtype, t.device, t.shape)
            for name, t in module.state_dict(keep_vars=True).items()
        )  # cheap: no tensor is read
        if seen != self._seen:
            self._digest = hash_weights(module)
            self._seen = seen
        return self._digest
