"""Classification head: dropout, optional hidden layer, linear to class logits."""

from __future__ import annotations

from torch import Tensor, nn


class MLPHead(nn.Module):
    """(B, H) features -> (B, C) logits.

    Args:
        in_dim: H.
        num_classes: C.
        hidden_dim: width of one ReLU hidden layer; 0 for a linear head.
        dropout: applied to the input features (and the hidden layer).
    """

    def __init__(self, in_dim: int, num_classes: int, hidden_dim: int = 0, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden_dim > 0:
            layers += [nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        return self.layers(features)  # (B, C)
