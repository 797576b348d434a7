"""The biLM with its softmax: what ELMo pretraining trains."""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.init_args import init_arguments


class BiLMLoss(NamedTuple):
    forward: Tensor  # mean next-word NLL, left to right
    backward: Tensor  # mean previous-word NLL, right to left
    num_tokens: int  # predictions per direction


class BiLMLanguageModel(nn.Module):
    """A `BiLM` and one softmax shared by both directions (as published).

    The forward stack's top output at position t predicts token t + 1, the backward stack's
    predicts token t - 1, over `[<bos>, w_1 .. w_n, <eos>]`. `softmax="adaptive"` uses PyTorch's
    adaptive softmax (Grave et al. 2017; the vocabulary must be sorted by frequency, as the
    project's vocabularies are), which makes 100k-word vocabularies affordable on a CPU.

    Args:
        vocab_size: V, the softmax vocabulary (inputs are characters and have none).
        softmax: "full" or "adaptive".
        cutoffs: the adaptive softmax's cluster boundaries (ids); those >= V - 1 are dropped.
        output_dropout: on the top layer before the softmax, while training.
        lowercase: the biLM reads lower-cased characters; it still predicts the words as
            written (the vocabulary keeps their case).
        other arguments: see `BiLM`.
    """

    def __init__(
        self,
        vocab_size: int,
        filters: list[list[int]],
        char_dim: int = 16,
        num_highway: int = 1,
        projection_dim: int = 128,
        cell_dim: int = 512,
        num_layers: int = 2,
        cell_clip: float | None = None,
        proj_clip: float | None = None,
        residual: bool = True,
        dropout: float = 0.1,
        output_dropout: float = 0.1,
        softmax: Literal["full", "adaptive"] = "full",
        cutoffs: list[int] | None = None,
        lowercase: bool = False,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.bilm = BiLM(
            filters,
            char_dim,
            num_highway,
            projection_dim,
            cell_dim,
            num_layers,
            cell_clip,
            proj_clip,
            residual,
            dropout,
            lowercase=lowercase,
        )
        self.dropout = nn.Dropout(output_dropout)
        cutoffs = [c for c in (cutoffs or [2000, 10000]) if c < vocab_size - 1]
        if softmax == "adaptive" and cutoffs:  # a vocabulary below every cutoff: full softmax
            self.softmax = nn.AdaptiveLogSoftmaxWithLoss(projection_dim, vocab_size, cutoffs)
        else:
            self.softmax = nn.Linear(projection_dim, vocab_size)

    def forward(self, chars: Tensor, targets: Tensor) -> BiLMLoss:
        """chars: (B, T, 50); targets: (B, T + 2) word ids of `<bos> w_1 .. w_n <eos>`, then
        padding (id < 0 or anything past each sentence's end)."""
        out = self.bilm(chars)
        top = self.dropout(out.layers[-1])  # (B, T + 2, 2P)
        forward_out, backward_out = top.chunk(2, dim=-1)  # (B, T + 2, P) each
        mask = out.mask
        next_mask = mask[:, 1:]  # (B, T + 1): positions 0..n+1 predict 1..n+1
        forward_loss = self._nll(forward_out[:, :-1][next_mask], targets[:, 1:][next_mask])
        backward_loss = self._nll(backward_out[:, 1:][next_mask], targets[:, :-1][next_mask])
        return BiLMLoss(forward_loss, backward_loss, int(next_mask.sum()))

    def _nll(self, hidden: Tensor, targets: Tensor) -> Tensor:
        """hidden: (N, P); targets: (N,). Mean negative log-likelihood."""
        if isinstance(self.softmax, nn.AdaptiveLogSoftmaxWithLoss):
            return self.softmax(hidden, targets).loss.float()
        return F.cross_entropy(self.softmax(hidden).float(), targets)  # fp32 under bf16 too
