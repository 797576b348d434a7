"""A network's layer groups, bottom to top: the units of discriminative learning rates and
gradual unfreezing."""

from __future__ import annotations

from torch import nn


def layer_groups(network: nn.Module) -> list[list[nn.Parameter]]:
    """The network's own layer groups (bottom to top), or one group of everything."""
    groups = (
        network.layer_groups() if hasattr(network, "layer_groups") else [list(network.parameters())]
    )
    grouped = {id(p) for group in groups for p in group}
    missing = [n for n, p in network.named_parameters() if id(p) not in grouped]
    if missing:
        raise ValueError(f"{type(network).__name__}.layer_groups() leaves out {missing[:3]}")
    return groups
