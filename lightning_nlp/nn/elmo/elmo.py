"""ELMo representations: the biLM's layers, mixed per task, as contextual token vectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

import torch
from torch import Tensor, nn

from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.fingerprint import WeightsFingerprint
from lightning_nlp.nn.elmo.scalar_mix import ScalarMix
from lightning_nlp.nn.functional import lengths_to_mask


class ElmoOutput(NamedTuple):
    representations: list[Tensor]  # each (B, T, 2P)
    mask: Tensor  # (B, T) True on real tokens


class LayerStore(Protocol):
    """Where computed layers are kept (`weights.layer_cache.LayerCache`): `code` identifies
    the code that computes them; `layers` returns them, computing only the missing ones."""

    code: str

    def layers(
        self, model: str, chars: Tensor, lengths: Tensor, compute: Callable[[Tensor], Tensor]
    ) -> Tensor: ...


class Elmo(nn.Module):
    """(B, T, 50) char ids -> `num_outputs` mixtures of the biLM's layers, sentinels removed.

    Each output has its own `ScalarMix` (a downstream model may want one at its input and one
    at its output, as in the paper), then dropout. A frozen biLM always runs in eval mode (no
    dropout), and with a `cache` (a `LayerStore`, set by `weights.layer_cache.attach_layer_cache`)
    its layers are read from / written to it, keyed by `cache_key()`: the biLM's weights, the
    code that computes its layers and the autocast precision. The weights are hashed once,
    and again only when they change (see `WeightsFingerprint`).

    Args:
        bilm: the biLM (trained weights: `weights.elmo.load_bilm`).
        num_outputs: how many mixtures.
        dropout: on each mixture.
        layer_norm: normalise the layers before mixing (see `ScalarMix`).
        freeze: keep the biLM's weights fixed.
    """

    def __init__(
        self,
        bilm: BiLM,
        num_outputs: int = 1,
        dropout: float = 0.5,
        layer_norm: bool = False,
        freeze: bool = True,
    ) -> None:
        super().__init__()
        self.bilm = bilm
        self.mixes = nn.ModuleList(
            ScalarMix(bilm.num_layers + 1, layer_norm) for _ in range(num_outputs)
        )
        self.dropout = nn.Dropout(dropout)
        self.freeze = freeze
        self.bilm.requires_grad_(not freeze)
        self._fingerprint = WeightsFingerprint()
        self.cache: LayerStore | None = None  # for a frozen, stateless biLM
        self.output_dim = bilm.output_dim
        self.train(self.training)

    def train(self, mode: bool = True) -> Elmo:
        """Also: a frozen biLM stays in eval mode; the carried state (stateful mode) starts
        afresh. The weights' fingerprint is kept: switching modes changes no weight."""
        super().train(mode)
        if self.freeze:
            self.bilm.eval()
        self.bilm.reset_states()
        return self

    def cache_key(self, device: str = "cpu") -> str:
        """What a sentence's cached layers depend on besides its characters: the biLM's
        weights, the code that computes the layers, and the autocast precision on `device`."""
        precision = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else ""
        code = self.cache.code if self.cache is not None else ""
        key = f"{self._fingerprint(self.bilm)}-{code}{precision}"
        return key.replace("torch.", "-")

    def layers(self, chars: Tensor) -> tuple[Tensor, Tensor]:
        """chars: (B, T, 50). Returns the layers (L + 1, B, T, 2P) and the mask (B, T)."""
        lengths = (chars[..., 0] > 0).sum(dim=1)  # (B,)
        mask = lengths_to_mask(lengths, chars.shape[1])  # (B, T)
        if self.cache is not None and self.freeze and not self.bilm.stateful:
            key = self.cache_key(chars.device.type)
            return self.cache.layers(key, chars, lengths, self._compute), mask
        return self._compute(chars), mask

    def _compute(self, chars: Tensor) -> Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            out = self.bilm(chars)
        words = out.layers[:, :, 1:-1]  # (L + 1, B, T, 2P): without <bos>, and <eos> ...
        return words * lengths_to_mask(out.lengths, chars.shape[1])[None, :, :, None]  # ... zeroed

    def forward(self, chars: Tensor) -> ElmoOutput:
        """chars: (B, T, 50), each sentence's tokens first, then all-zero rows."""
        layers, mask = self.layers(chars)
        mixed = [self.dropout(mix(layers, mask)) for mix in self.mixes]
        return ElmoOutput(mixed, mask)
