"""Corpus perplexity from per-batch mean losses, weighted by token count."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


class Perplexity(Metric):
    """exp of the token-weighted mean NLL over everything seen since the last reset.

    `update(mean_nll, num_tokens)` takes the batch's mean cross-entropy, which the task has
    computed anyway, so the logits are not normalised twice. The two sums are kept in float64
    and reduced across ranks under DDP, so the result is the perplexity of the whole split, not
    a mean of batch means. A non-finite loss is kept, never dropped, so a diverged run shows a
    NaN or infinite perplexity. (torchmetrics' MeanMetric drops NaNs by default, and with its
    NaN check disabled it ignores the weights.)
    """

    full_state_update = False
    higher_is_better = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state("nll_sum", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("tokens", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, mean_nll: Tensor, num_tokens: int | Tensor) -> None:  # type: ignore[override]
        tokens = torch.as_tensor(num_tokens, dtype=torch.float64, device=self.tokens.device)
        self.nll_sum += mean_nll.detach().to(torch.float64) * tokens
        self.tokens += tokens

    def compute(self) -> Tensor:
        return (self.nll_sum / self.tokens).exp().float()
