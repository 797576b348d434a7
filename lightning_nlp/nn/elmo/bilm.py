"""The ELMo bidirectional language model's encoder: char CNN tokens, then forward and backward
LSTM stacks, whose layers are the contextual representations."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from lightning_nlp.nn.elmo.char_cnn import CharCNNEncoder
from lightning_nlp.nn.elmo.characters import BOS_IDS, EOS_IDS, lowercase_char_ids
from lightning_nlp.nn.elmo.projected_lstm import LSTMState, ProjectedLSTM
from lightning_nlp.nn.functional import lengths_to_mask
from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.padded_rnn import reverse_within_lengths


class BiLMOutput(NamedTuple):
    layers: Tensor  # (L + 1, B, T + 2, 2P): tokens (twice), then each LSTM layer fwd|bwd
    mask: Tensor  # (B, T + 2) True on the sentinels and the real tokens
    lengths: Tensor  # (B,) real tokens per sentence, without the sentinels


class BiLM(nn.Module):
    """(B, T, 50) char ids of right-padded sentences -> the biLM's layers.

    Each sentence is wrapped in begin/end-of-sentence tokens. The forward stack reads it left
    to right, the backward stack right to left (each sentence reversed within its length), each
    with its own LSTM layers; from the second layer on, a layer's input is added to its output
    (the published model's residual connections). By default each batch starts from a zero
    state, so a sentence's vectors do not depend on what came before; `stateful=True` carries
    each row's final state into the next batch of the same size, as the published
    implementation does.

    Args:
        filters, char_dim, num_highway, activation: see `CharCNNEncoder`.
        projection_dim: P, the width of the token vectors and of each direction's outputs.
        cell_dim: H, the LSTM cell width.
        num_layers: L LSTM layers per direction.
        cell_clip, proj_clip: see `ProjectedLSTM` (published: 3 and 3).
        residual: add each layer's input to its output from the second layer on.
        dropout: on each LSTM layer's input while training.
        stateful: carry the LSTM state across batches.
        lowercase: read ASCII capitals as lower-case letters, so that a token's vectors do
            not depend on its case: for lower-cased downstream text (SST-2 as distributed)
            from a biLM trained on cased text.
    """

    def __init__(
        self,
        filters: list[list[int]],
        char_dim: int = 16,
        num_highway: int = 2,
        projection_dim: int = 512,
        cell_dim: int = 4096,
        num_layers: int = 2,
        cell_clip: float | None = 3.0,
        proj_clip: float | None = 3.0,
        residual: bool = True,
        dropout: float = 0.1,
        activation: Literal["relu", "tanh"] = "relu",
        stateful: bool = False,
        lowercase: bool = False,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.token_encoder = CharCNNEncoder(
            filters, char_dim, num_highway, projection_dim, activation
        )

        def stack() -> nn.ModuleList:
            return nn.ModuleList(
                ProjectedLSTM(projection_dim, cell_dim, projection_dim, cell_clip, proj_clip)
                for _ in range(num_layers)
            )

        self.forward_layers, self.backward_layers = stack(), stack()
        self.dropout = nn.Dropout(dropout)
        self.residual = residual
        self.stateful = stateful
        self.lowercase = lowercase
        self.output_dim = 2 * projection_dim
        self.num_layers = num_layers
        self._states: dict[str, list[LSTMState]] = {}
        self.register_buffer(
            "sentinels", torch.from_numpy(np.stack([BOS_IDS, EOS_IDS])), persistent=False
        )

    def reset_states(self) -> None:
        """Forget the carried state (stateful mode)."""
        self._states = {}

    def forward(self, chars: Tensor) -> BiLMOutput:
        """chars: (B, T, 50), each sentence's tokens first, then all-zero rows."""
        lengths = (chars[..., 0] > 0).sum(dim=1)  # (B,)
        if self.lowercase:
            chars = lowercase_char_ids(chars)
        wrapped = self._add_sentinels(chars, lengths)  # (B, T + 2, 50)
        full = lengths + 2
        tokens = self.token_encoder(wrapped)  # (B, T + 2, P)
        mask = lengths_to_mask(full, wrapped.shape[1])  # (B, T + 2)
        tokens = tokens * mask.unsqueeze(-1)
        forward = self._run(self.forward_layers, tokens, full, "forward")
        backward_in = reverse_within_lengths(tokens, full)
        backward = [
            reverse_within_lengths(x, full)
            for x in self._run(self.backward_layers, backward_in, full, "backward")
        ]
        layers = [torch.cat([tokens, tokens], dim=-1)]
        layers += [torch.cat([f, b], dim=-1) for f, b in zip(forward, backward)]
        return BiLMOutput(torch.stack(layers), mask, lengths)  # (L + 1, B, T + 2, 2P)

    def _run(self, stack: nn.ModuleList, x: Tensor, lengths: Tensor, name: str) -> list[Tensor]:
        """Each layer's outputs (B, T, P), bottom to top."""
        carried = self._states.get(name) if self.stateful else None
        if carried is not None and (
            carried[0][0].shape[0] != x.shape[0] or carried[0][0].device != x.device
        ):
            carried = None  # a batch of another size (or device) starts afresh
        outputs, states = [], []
        for index, layer in enumerate(stack):
            state = None if carried is None else carried[index]
            out, final = layer(self.dropout(x), lengths, state)
            if self.residual and index > 0:
                out = out + x
            outputs.append(out)
            dtype = next(layer.parameters()).dtype  # bf16 autocast: carried as the weights
            states.append(tuple(s.detach().to(dtype) for s in final))
            x = out
        if self.stateful:
            self._states[name] = states
        return outputs

    def _add_sentinels(self, chars: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, 50) -> (B, T + 2, 50): begin-of-sentence, the tokens, end-of-sentence."""
        batch, steps, width = chars.shape
        wrapped = chars.new_zeros(batch, steps + 2, width)
        wrapped[:, 1:-1] = chars
        wrapped[:, 0] = self.sentinels[0]
        wrapped[torch.arange(batch, device=chars.device), lengths + 1] = self.sentinels[1]
        return wrapped
