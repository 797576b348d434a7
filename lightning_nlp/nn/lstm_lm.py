"""Word-level LSTM language model with optional weight tying."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.recurrent_state import LMOutput

Hidden = tuple[Tensor, Tensor]  # (h, c), each (L, B, H)


class LSTMLanguageModel(nn.Module):
    """Embedding -> multi-layer LSTM -> dropout -> linear decoder over the vocabulary.

    The decoder reads the LSTM's `hidden_dim` outputs; with `tie_weights` a projection to
    `embed_dim` is added when the two differ, so the decoder can share the embedding matrix
    (Press & Wolf 2017, Inan et al. 2017).

    Args:
        vocab_size: V.
        embed_dim: E.
        hidden_dim: H, per LSTM layer.
        num_layers: L.
        dropout: applied to embeddings, between LSTM layers and to the LSTM output.
        tie_weights: share the decoder weight with the embedding.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 512,
        hidden_dim: int = 512,
        num_layers: int = 2,
        dropout: float = 0.5,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            embed_dim,
            hidden_dim,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        needs_projection = tie_weights and hidden_dim != embed_dim
        self.projection = nn.Linear(hidden_dim, embed_dim, bias=False) if needs_projection else None
        self.decoder = nn.Linear(embed_dim if tie_weights else hidden_dim, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def init_hidden(self, batch_size: int, device: torch.device | None = None) -> Hidden:
        """Zero state for a batch: two tensors of shape (L, B, H)."""
        zeros = torch.zeros(self.num_layers, batch_size, self.hidden_dim, device=device)
        return zeros, zeros.clone()

    def forward(self, tokens: Tensor, hidden: Hidden | None = None) -> LMOutput:
        """tokens: (B, T) ids; hidden: optional (L, B, H) pair. Returns logits (B, T, V) and the new state."""
        embedded = self.dropout(self.embedding(tokens))  # (B, T, E)
        output, hidden = self.lstm(embedded, hidden)  # (B, T, H)
        # The batch-first output is a transposed view (strides (H, B * H, 1)), which dropout
        # keeps; without a gradient to keep (inference mode: evaluation, predict) the linear
        # layers cannot fold it into one matrix and oneDNN's bf16 product on it runs ~20x
        # slower (AMX). One copy here gives every layer after it a contiguous input.
        output = self.dropout(output.contiguous())
        if self.projection is not None:
            output = self.projection(output)  # (B, T, E)
        return LMOutput(self.decoder(output), hidden)  # (B, T, V)
