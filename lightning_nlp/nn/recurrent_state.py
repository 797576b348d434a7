"""What language models return, and helpers for their recurrent state.

A state is any nesting of tuples/lists of tensors with the batch on dim 1: `nn.LSTM`'s
(h, c) pair, each (L, B, H), or AWD-LSTM's list of one (h, c) per layer, each (1, B, H_l).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch.utils._pytree import tree_leaves, tree_map

State = Any  # nested tuples/lists of (L, B, H) tensors


class LMOutput(NamedTuple):
    logits: Tensor  # (B, T, V)
    hidden: State
    raw: Tensor | None = None  # (B, T, E) last layer's output before output dropout (for TAR)
    dropped: Tensor | None = None  # (B, T, E) the same after output dropout (for AR)


def detach_state(
    state: State, dtype: torch.dtype | None = None, device: torch.device | None = None
) -> State:
    """The same state cut from the graph, so gradients stop at the window edge; in `dtype`
    when given (under bf16 autocast, LSTM kernels return bf16 states: carried in the weights'
    dtype, every window and an fp32 evaluation see one dtype), on `device` when given."""

    def detach(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        t = t.detach() if device is None else t.detach().to(device)
        return t.to(dtype) if dtype is not None and t.is_floating_point() else t

    return tree_map(detach, state)


def reorder_state(state: State, index: Tensor) -> State:
    """Rows of the state picked (and repeated) by `index` (K,) along the batch dim."""
    return tree_map(lambda t: t[:, index] if isinstance(t, Tensor) else t, state)


def state_batch_size(state: State) -> int:
    """B of a state."""
    return tree_leaves(state)[0].shape[1]
