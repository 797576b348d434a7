"""ELMo's context-free token encoder: character embedding, CNN, highway, projection."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from lightning_nlp.nn.elmo.characters import MAX_WORD_LENGTH, NUM_CHARACTERS
from lightning_nlp.nn.elmo.highway import Highway

# the published large model: widths 1-7, 2048 filters in all
PUBLISHED_FILTERS = [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]]


class CharCNNEncoder(nn.Module):
    """(B, T, 50) char ids -> (B, T, P) token vectors.

    Each filter width w slides over the token's character embeddings; the maximum over
    positions of each filter, through the activation, is a feature. Highway layers mix the
    features, a linear layer projects them to P.

    Args:
        filters: [[width, count], ...].
        char_dim: character embedding size.
        num_highway: highway layers.
        output_dim: P.
        activation: "relu" (published) or "tanh".
    """

    def __init__(
        self,
        filters: list[list[int]],
        char_dim: int = 16,
        num_highway: int = 2,
        output_dim: int = 512,
        activation: Literal["relu", "tanh"] = "relu",
    ) -> None:
        super().__init__()
        if any(width > MAX_WORD_LENGTH for width, _ in filters):
            raise ValueError(f"filter widths must be at most {MAX_WORD_LENGTH}: {filters}")
        self.char_embedding = nn.Embedding(NUM_CHARACTERS, char_dim, padding_idx=0)
        self.convolutions = nn.ModuleList(nn.Conv1d(char_dim, n, width) for width, n in filters)
        num_features = sum(n for _, n in filters)
        self.highway = Highway(num_features, num_highway)
        self.projection = nn.Linear(num_features, output_dim)
        self.activation = torch.relu if activation == "relu" else torch.tanh
        self.output_dim = output_dim

    def forward(self, chars: Tensor) -> Tensor:
        """chars: (B, T, 50) -> (B, T, P). Each distinct token of the batch is encoded once."""
        batch, steps, width = chars.shape
        distinct, inverse = torch.unique(chars.reshape(-1, width), dim=0, return_inverse=True)
        embedded = self.char_embedding(distinct).transpose(1, 2)  # (U, E, 50)
        features = torch.cat(
            [self.activation(conv(embedded).amax(dim=-1)) for conv in self.convolutions], dim=-1
        )  # (U, F)
        vectors = self.projection(self.highway(features))  # (U, P)
        return vectors[inverse].view(batch, steps, -1)  # (B, T, P)
