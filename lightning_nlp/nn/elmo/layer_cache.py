"""On-disk cache of a frozen biLM's layers, one file per sentence, keyed by weights and text.

Frozen ELMo layers are a pure function of the weights and the sentence's characters, so later
epochs and later runs can read them back instead of running the biLM again. A key hashes the
weights' fingerprint and the sentence's char ids, so changed weights never read stale vectors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn


class WeightsFingerprint:
    """A hash of a module's parameters and buffers, recomputed only when one of them changed
    (a new tensor, or an in-place update, which bumps the tensor's version counter)."""

    def __init__(self) -> None:
        self._seen: tuple | None = None
        self._digest = ""

    def __call__(self, module: nn.Module) -> str:
        tensors = list(module.state_dict(keep_vars=True).items())
        seen = tuple((name, t.data_ptr(), t._version, t.dtype) for name, t in tensors)
        if seen != self._seen:
            digest = hashlib.sha256()
            for name, tensor in tensors:
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
            self._seen, self._digest = seen, digest.hexdigest()[:24]
        return self._digest


class LayerCache:
    """Sentence layers (L, n, D) as float32 `.npy` files under `folder/<weights>/`.

    Args:
        folder: where the files live; created when needed.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.hits = self.misses = 0

    def layers(
        self,
        weights: str,
        chars: Tensor,
        lengths: Tensor,
        compute: Callable[[Tensor], Tensor],
    ) -> Tensor:
        """chars: (B, T, 50); lengths: (B,). Returns (L, B, T, D), zero past each length;
        `compute(chars)` gives the layers of the sentences not cached yet, in one batch."""
        keys = [_key(weights, chars[b, : int(n)]) for b, n in enumerate(lengths)]
        paths = [self.folder / weights / key[:2] / f"{key}.npy" for key in keys]
        found = [np.load(p) if p.is_file() else None for p in paths]
        missing = [b for b, value in enumerate(found) if value is None]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            longest = int(lengths[missing].max())
            computed = compute(chars[missing, :longest]).detach().float().cpu()  # (L, M, T', D)
            for row, b in enumerate(missing):
                found[b] = computed[:, row, : int(lengths[b])].numpy()
                _save(paths[b], found[b])
        num_layers, dim = found[0].shape[0], found[0].shape[2]
        out = torch.zeros(num_layers, len(keys), chars.shape[1], dim)
        for b, value in enumerate(found):
            out[:, b, : value.shape[1]] = torch.from_numpy(value)
        return out.to(chars.device)


def _key(weights: str, chars: Tensor) -> str:
    raw = chars.to(torch.int16).cpu().numpy().tobytes()
    return hashlib.sha256(weights.encode() + b"|" + raw).hexdigest()[:32]


def _save(path: Path, value: np.ndarray) -> None:
    """Written beside its place, then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.npy")
    np.save(partial, np.ascontiguousarray(value, dtype=np.float32))
    partial.replace(path)
