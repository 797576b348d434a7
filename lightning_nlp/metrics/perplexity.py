"""Corpus perplexity from per-batch mean losses, weighted by token count."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import MeanMetric


class Perplexity(MeanMetric):
    """exp of the token-weighted mean NLL over everything seen since the last reset.

    `update(mean_nll, num_tokens)` takes the batch's mean cross-entropy, which the task has
    computed anyway, so the logits are not normalised twice. Sums are reduced across ranks
    under DDP, so the result is the perplexity of the whole split, not a mean of batch means.
    A non-finite loss is kept (MeanMetric would drop a NaN with a warning), so a diverged run
    shows a NaN or infinite perplexity instead of a finite one computed from the other batches.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(nan_strategy="disable", **kwargs)

    def update(self, mean_nll: Tensor, num_tokens: int | Tensor) -> None:  # type: ignore[override]
        super().update(mean_nll.detach(), torch.as_tensor(num_tokens, dtype=mean_nll.dtype))

    def compute(self) -> Tensor:
        return super().compute().exp()
