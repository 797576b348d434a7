"""On-disk cache of a frozen biLM's layers, one file per sentence, keyed by weights, code
and text.

Frozen ELMo layers are a pure function of the weights, the code that computes them and the
sentence's characters, so later epochs and later runs can read them back instead of running
the biLM again. A key hashes the weights' fingerprint, the source of the modules that compute
the layers (`code_fingerprint`) and the sentence's char ids, so changed weights or a changed
forward pass never read stale vectors. `attach_layer_cache` gives an `Elmo` one (the module
itself, plain torch, reads and writes no file).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import types
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from lightning_nlp.nn.elmo.elmo import Elmo

log = logging.getLogger(__name__)
DIGEST = 16  # bytes of blake2b before each cached array
FORMAT = b"v2"  # in every key: files of an older layout are never read
PACKAGE = "lightning_nlp."


def code_modules(module: nn.Module, *extra: str) -> tuple[str, ...]:
    """The `lightning_nlp` modules whose code computes `module`'s output: those that define
    its submodules' classes, and `extra`, with the `lightning_nlp` modules they use (every
    module, class or function of the package among their globals, transitively)."""
    todo = [type(m).__module__ for m in module.modules()] + list(extra)
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name in found or not name.startswith(PACKAGE) or name not in sys.modules:
            continue
        found.add(name)
        for value in list(vars(sys.modules[name]).values()):
            if isinstance(value, types.ModuleType):
                todo.append(value.__name__)
            elif isinstance(getattr(value, "__module__", None), str):
                todo.append(value.__module__)
    return tuple(sorted(found))


@lru_cache
def source_hash(names: tuple[str, ...]) -> str:
    """A hash of the named modules' source files (read once per process: the code that runs
    is the code imported)."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + Path(sys.modules[name].__file__).read_bytes())
    return digest.hexdigest()[:12]


def code_fingerprint(module: nn.Module, *extra: str) -> str:
    """A hash of the source of `code_modules(module, *extra)`: any change to the code that
    computes the cached layers gives new keys instead of reading stale vectors."""
    return source_hash(code_modules(module, *extra))


class LayerCache:
    """Sentence layers (L, n, D) as float32 `.npy` files under `folder/<model>/`, and the
    ones read or written in this process kept in memory (up to `memory_mb`), so that epochs
    after the first touch neither the biLM nor the disk.

    Args:
        folder: where the files live; created when needed.
        code: `code_fingerprint` of the modules that compute the layers (in every key).
        memory_mb: at most this much is kept in memory; past it, reads go to disk.
    """

    def __init__(self, folder: str | Path, code: str = "", memory_mb: float = 4096) -> None:
        self.folder = Path(folder)
        self.code = code
        self.memory_limit = memory_mb * 2**20
        self.memory_used = 0
        self._memory: dict[str, np.ndarray] = {}
        self.hits = self.misses = 0

    def layers(
        self,
        model: str,
        chars: Tensor,
        lengths: Tensor,
        compute: Callable[[Tensor], Tensor],
    ) -> Tensor:
        """model: what the layers depend on besides the sentence (`Elmo.cache_key`: weights,
        code, precision); chars: (B, T, 50); lengths: (B,). Returns (L, B, T, D), zero past
        each length; `compute(chars)` gives the layers of the sentences not cached yet, in one
        batch."""
        spelled = chars.to(torch.int16).cpu().numpy()  # (B, T, 50)
        sizes = lengths.tolist()
        keys = [_key(model, spelled[b, :n]) for b, n in enumerate(sizes)]
        found = [self._read(model, key) for key in keys]
        firsts = {keys[b]: b for b in reversed(range(len(keys))) if found[b] is None}
        missing = sorted(firsts.values())  # each distinct missing sentence once
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            longest = max(sizes[b] for b in missing)
            computed = compute(chars[missing, :longest]).detach().float().cpu()  # (L, M, T', D)
            for row, b in enumerate(missing):
                value = computed[:, row, : sizes[b]].numpy().copy()
                _save(self._path(model, keys[b]), value)
                self._remember(keys[b], value)
                firsts[keys[b]] = value
            found = [firsts[k] if v is None else v for k, v in zip(keys, found)]
        num_layers, dim = found[0].shape[0], found[0].shape[2]
        out = torch.zeros(num_layers, len(keys), chars.shape[1], dim)
        for b, value in enumerate(found):
            out[:, b, : value.shape[1]] = torch.from_numpy(value)
        return out.to(chars.device)

    def _path(self, model: str, key: str) -> Path:
        return self.folder / model / key[:2] / f"{key}.npy"

    def _read(self, model: str, key: str) -> np.ndarray | None:
        value = self._memory.get(key)
        if value is None:
            path = self._path(model, key)
            if path.is_file():
                value = _load(path)
                if value is not None:
                    self._remember(key, value)
        return value

    def _remember(self, key: str, value: np.ndarray) -> None:
        if key not in self._memory and self.memory_used + value.nbytes <= self.memory_limit:
            self._memory[key] = value
            self.memory_used += value.nbytes


def _key(model: str, spelled: np.ndarray) -> str:
    """The model's key and one sentence's (n, 50) char ids, hashed."""
    return hashlib.sha256(FORMAT + model.encode() + b"|" + spelled.tobytes()).hexdigest()[:32]


def _save(path: Path, value: np.ndarray) -> None:
    """The array as .npy bytes after their 16-byte blake2b digest; written beside its place,
    then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.npy")
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(value, dtype=np.float32))
    payload = buffer.getvalue()
    partial.write_bytes(hashlib.blake2b(payload, digest_size=DIGEST).digest() + payload)
    partial.replace(path)


def _load(path: Path) -> np.ndarray | None:
    """The cached array, or None (with a warning; it is then computed again) when the file is
    truncated or altered."""
    try:
        data = path.read_bytes()
    except OSError:  # removed meanwhile
        return None
    payload = data[DIGEST:]
    if hashlib.blake2b(payload, digest_size=DIGEST).digest() == data[:DIGEST]:
        try:
            return np.load(io.BytesIO(payload))
        except ValueError:
            pass
    log.warning("%s: damaged cached ELMo layers, computed again", path)
    return None


def attach_layer_cache(elmo: Elmo, folder: str | Path | None) -> None:
    """Gives a frozen `Elmo` a `LayerCache` in `folder` (None: none), keyed by the code of the
    biLM's modules and of `Elmo` itself. A trainable biLM's layers change: never cached."""
    elmo.cache = None
    if folder and elmo.freeze:
        elmo.cache = LayerCache(folder, code_fingerprint(elmo.bilm, Elmo.__module__))
