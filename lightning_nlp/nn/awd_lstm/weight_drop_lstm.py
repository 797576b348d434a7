"""One LSTM layer with DropConnect on its hidden-to-hidden weights, on the fused kernel."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LayerState = tuple[Tensor, Tensor]  # (h, c), each (1, B, H)


class WeightDropLSTM(nn.Module):
    """A single-layer, batch-first LSTM whose `weight_hh` is dropped (DropConnect) with a new
    mask at each forward pass in training, and used whole in eval.

    The dropped weight is passed straight to `torch.lstm`, the function `nn.LSTM` itself calls,
    so the fused kernel runs over the whole sequence; the raw weights stay ordinary parameters
    (nothing is re-registered), which keeps `state_dict`, DDP and `torch.compile` working.

    Args:
        input_size: I.
        hidden_size: H.
        weight_dropout: probability of dropping each hidden-to-hidden weight.
    """

    def __init__(self, input_size: int, hidden_size: int, weight_dropout: float = 0.0) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_dropout = weight_dropout
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)  # as nn.LSTM
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def dropped_weight_hh(self) -> Tensor:
        """`weight_hh` with a fresh DropConnect mask in training, as it is in eval."""
        return F.dropout(self.weight_hh, self.weight_dropout, self.training)

    def forward(
        self, x: Tensor, state: LayerState | None = None, weight_hh: Tensor | None = None
    ) -> tuple[Tensor, LayerState]:
        """x: (B, T, I); state: optional (h, c), each (1, B, H). Returns (B, T, H) and the state.

        `weight_hh`: a dropped weight from `dropped_weight_hh()` to reuse (one mask over all
        the chunks of a document); by default a new mask is drawn for this call."""
        if state is None:
            zeros = x.new_zeros(1, x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        if weight_hh is None:
            weight_hh = self.dropped_weight_hh()
        weights = [self.weight_ih, weight_hh, self.bias_ih, self.bias_hh]
        output, h, c = torch.lstm(x, state, weights, True, 1, 0.0, self.training, False, True)
        # The batch-first output is a transposed view; the layers after it get it contiguous,
        # since oneDNN's bf16 matmul on a strided input takes a path ~20x slower (inference).
        return output.contiguous(), (h, c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, weight_dropout={self.weight_dropout}"
