"""The two dropouts of AWD-LSTM that differ from `nn.Dropout`: one mask per sequence, and
whole words dropped from the embedding."""

from __future__ import annotations

from torch import Tensor, nn


class LockedDropout(nn.Module):
    """Variational dropout: one mask per sequence and feature, the same at every time step.

    Args:
        p: probability of zeroing a feature; kept features are scaled by 1 / (1 - p).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, T, H) -> (B, T, H)."""
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - self.p)  # (B, 1, H)
        return x * mask / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def embedding_dropout(
    embedded: Tensor, tokens: Tensor, vocab_size: int, p: float, training: bool
) -> Tensor:
    """Drops whole words: every occurrence of a dropped word id gets a zero vector, the others
    are scaled by 1 / (1 - p). Same effect as masking rows of the embedding matrix, without
    touching the (V, E) matrix. embedded: (B, T, E) looked up from tokens (B, T)."""
    if not training or p == 0:
        return embedded
    keep = embedded.new_empty(vocab_size).bernoulli_(1 - p) / (1 - p)  # (V,)
    return embedded * keep[tokens].unsqueeze(-1)  # (B, T, E)
