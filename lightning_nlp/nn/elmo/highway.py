"""Highway layers (Srivastava et al. 2015) as in the published ELMo character encoder."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Highway(nn.Module):
    """`n` layers of y = g * relu(W_t x + b_t) + (1 - g) * x, g = sigmoid(W_c x + b_c).

    Args:
        dim: D, the width in and out.
        num_layers: n.
    """

    def __init__(self, dim: int, num_layers: int) -> None:
        super().__init__()
        self.transform = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_layers))
        self.carry = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_layers))
        for carry in self.carry:  # start close to the identity, as the paper advises
            nn.init.constant_(carry.bias, -2.0)

    def forward(self, x: Tensor) -> Tensor:
        """x: (..., D) -> (..., D)."""
        for transform, carry in zip(self.transform, self.carry):
            gate = torch.sigmoid(carry(x))
            x = gate * torch.relu(transform(x)) + (1 - gate) * x
        return x
