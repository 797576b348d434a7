"""A recurrent layer run over padded batches without packing, for exported graphs (TorchScript,
ONNX), where packed sequences cannot go: the same outputs as over packed sequences."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """x (B, T, F) with each row's first lengths[b] steps reversed and its padding in place."""
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, T)
    last = (lengths.to(x.device) - 1).unsqueeze(1)  # (B, 1)
    index = torch.where(steps <= last, last - steps, steps)  # (B, T)
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[2]))


def run_padded(rnn: nn.RNNBase, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Runs `rnn` (batch_first, any cell, layers and directions) over x (B, T, E) with real
    lengths (B,). Returns the outputs (B, T, D * H), zero after each row's end, and the last
    layer's final hidden state per direction (D, B, H), as `rnn` over packed sequences gives.

    Each direction of each layer runs as its own one-layer RNN sharing `rnn`'s weights; the
    backward one reads each row reversed within its length, so no padding reaches a real step.
    """
    directions = 2 if rnn.bidirectional else 1
    rows = torch.arange(x.shape[0], device=x.device)
    last_step = lengths.to(x.device) - 1  # (B,)
    mask = torch.arange(x.shape[1], device=x.device) < lengths.to(x.device).unsqueeze(1)
    finals = []
    for layer in range(rnn.num_layers):
        outputs, finals = [], []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = [getattr(rnn, f"{name}{suffix}") for name in _weight_names(rnn)]
            inputs = reverse_within_lengths(x, lengths) if direction else x
            out = _one_layer(rnn, inputs, weights)  # (B, T, H)
            finals.append(out[rows, last_step])  # (B, H): the row's last real step
            outputs.append(reverse_within_lengths(out, lengths) if direction else out)
        # (B, T, D * H), contiguous: cat copies the transposed views torch.lstm returns
        x = torch.cat(outputs, dim=-1) * mask.unsqueeze(-1)
        if layer < rnn.num_layers - 1 and rnn.dropout and rnn.training:
            x = nn.functional.dropout(x, rnn.dropout)
    return x, torch.stack(finals)


def _weight_names(rnn: nn.RNNBase) -> list[str]:
    names = ["weight_ih", "weight_hh"]
    return names + ["bias_ih", "bias_hh"] if rnn.bias else names


def _one_layer(rnn: nn.RNNBase, x: Tensor, weights: list[Tensor]) -> Tensor:
    """One direction of one layer over x (B, T, F): its outputs (B, T, H)."""
    h0 = x.new_zeros(1, x.shape[0], weights[1].shape[1])  # (1, B, H)
    args = (weights, rnn.bias, 1, 0.0, False, False, True)  # 1 layer, no dropout, eval, 1 way
    if rnn.mode == "LSTM":
        return torch.lstm(x, (h0, h0), *args)[0]
    step = {"GRU": torch.gru, "RNN_TANH": torch.rnn_tanh, "RNN_RELU": torch.rnn_relu}[rnn.mode]
    return step(x, h0, *args)[0]
