"""One LSTM layer with a projected output (LSTMP) and the published ELMo's optional clipping."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lightning_nlp.nn.functional import lengths_to_mask

LSTMState = tuple[Tensor, Tensor]  # h: (B, P), c: (B, H)


class ProjectedLSTM(nn.Module):
    """h_t = W_p (o_t * tanh(c_t)): a cell of width H, an output of width P < H (Sak et al.
    2014), c_t and h_t optionally clipped (the published ELMo clips both to +-3).

    It steps through time itself: PyTorch's `nn.LSTM(proj_size=...)` has no fused CPU kernel,
    and its fallback's backward costs O(T^2) memory traffic (a full-size zero gradient per step).
    An output at a padded position is zero; the final state is the one after each sequence's
    last real step. Gate order of `weight_ih`/`weight_hh`/`bias`: input, forget, cell, output.

    Args:
        input_dim: I.  cell_dim: H.  output_dim: P.
        cell_clip, proj_clip: clip c_t / h_t to [-clip, clip]; None: no clipping.
    """

    def __init__(
        self,
        input_dim: int,
        cell_dim: int,
        output_dim: int,
        cell_clip: float | None = None,
        proj_clip: float | None = None,
    ) -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(4 * cell_dim, input_dim))
        self.weight_hh = nn.Parameter(torch.empty(4 * cell_dim, output_dim))
        self.bias = nn.Parameter(torch.empty(4 * cell_dim))
        self.weight_proj = nn.Parameter(torch.empty(output_dim, cell_dim))
        self.cell_clip, self.proj_clip = cell_clip, proj_clip
        self.cell_dim, self.output_dim = cell_dim, output_dim
        bound = 1 / math.sqrt(cell_dim)  # nn.LSTM's initialisation
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(
        self, inputs: Tensor, lengths: Tensor, state: LSTMState | None = None
    ) -> tuple[Tensor, LSTMState]:
        """inputs: (B, T, I); lengths: (B,). Returns outputs (B, T, P) and the final (h, c)."""
        batch = inputs.shape[0]
        if state is None:
            state = (
                inputs.new_zeros(batch, self.output_dim),
                inputs.new_zeros(batch, self.cell_dim),
            )
        h, c = state
        input_gates = torch.addmm(self.bias, inputs.flatten(0, 1), self.weight_ih.T)  # (BT, 4H)
        input_gates = input_gates.view(batch, inputs.shape[1], -1)  # (B, T, 4H)
        mask = lengths_to_mask(lengths.to(inputs.device), inputs.shape[1]).unsqueeze(-1)
        outputs = []
        for x_gates, real in zip(input_gates.unbind(1), mask.unbind(1)):  # (B, 4H), (B, 1)
            i, f, g, o = torch.addmm(x_gates, h, self.weight_hh.T).chunk(4, dim=-1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            if self.cell_clip is not None:
                c_new = c_new.clamp(-self.cell_clip, self.cell_clip)
            h_new = (torch.sigmoid(o) * torch.tanh(c_new)) @ self.weight_proj.T  # (B, P)
            if self.proj_clip is not None:
                h_new = h_new.clamp(-self.proj_clip, self.proj_clip)
            h, c = torch.where(real, h_new, h), torch.where(real, c_new, c)
            outputs.append(h_new * real)
        return torch.stack(outputs, dim=1), (h, c)  # (B, T, P)
