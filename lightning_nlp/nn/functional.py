"""Pure tensor helpers for padded batches. mask: (B, T) bool, True = real token."""

from __future__ import annotations

import torch
from torch import Tensor


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """lengths: (B,) -> mask (B, T) with True on the first lengths[b] positions."""
    max_len = int(lengths.max()) if max_len is None else max_len
    positions = torch.arange(max_len, device=lengths.device)  # (T,)
    return positions[None, :] < lengths[:, None]  # (B, T)


def masked_mean(hidden: Tensor, mask: Tensor) -> Tensor:
    """Mean of `hidden` (B, T, H) over real tokens; an all-padding row gives zeros. Returns (B, H)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    total = (hidden * weights).sum(dim=1)  # (B, H)
    return total / weights.sum(dim=1).clamp_min(1)  # (B, H)


def masked_max(hidden: Tensor, mask: Tensor) -> Tensor:
    """Max of `hidden` (B, T, H) over real tokens. Returns (B, H)."""
    filled = hidden.masked_fill(~mask.unsqueeze(-1), float("-inf"))  # (B, T, H)
    return filled.max(dim=1).values.nan_to_num(neginf=0.0)  # (B, H)


def masked_last(hidden: Tensor, lengths: Tensor) -> Tensor:
    """hidden[b, lengths[b] - 1] for each b: the output at the last real token. Returns (B, H)."""
    index = (lengths - 1).clamp_min(0).to(hidden.device)  # (B,)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]  # (B, H)
