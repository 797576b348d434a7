"""ELMo's task-specific combination of the biLM layers (Peters et al. 2018, eq. 1)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ScalarMix(nn.Module):
    """gamma * sum_k softmax(s)_k * layer_k, optionally each layer normalised first.

    The layer norm is taken per sentence over its real tokens (all features), so padding and
    the other sentences of the batch never change a sentence's output.

    Args:
        num_layers: K.
        layer_norm: normalise each layer before mixing.
    """

    def __init__(self, num_layers: int, layer_norm: bool = False) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(num_layers))
        self.gamma = nn.Parameter(torch.ones(()))
        self.layer_norm = layer_norm

    def forward(self, layers: Tensor, mask: Tensor) -> Tensor:
        """layers: (K, B, T, D); mask: (B, T) True on real tokens. Returns (B, T, D)."""
        if self.layer_norm:
            layers = _normalise(layers, mask)
        weights = torch.softmax(self.weights, dim=0).to(layers.dtype)  # (K,)
        mixed = torch.einsum("k,kbtd->btd", weights, layers)
        return self.gamma * mixed * mask.unsqueeze(-1)  # (B, T, D)


def _normalise(layers: Tensor, mask: Tensor, eps: float = 1e-12) -> Tensor:
    """Each (layer, sentence) to zero mean and unit variance over its real tokens."""
    weight = mask[None, :, :, None].to(layers.dtype)  # (1, B, T, 1)
    count = weight.sum(dim=(2, 3), keepdim=True).clamp_min(1) * layers.shape[-1]  # (1, B, 1, 1)
    mean = (layers * weight).sum(dim=(2, 3), keepdim=True) / count  # (K, B, 1, 1)
    variance = (((layers - mean) * weight) ** 2).sum(dim=(2, 3), keepdim=True) / count
    return (layers - mean) / torch.sqrt(variance + eps)
