"""The AWD-LSTM encoder: dropped embedding, then a stack of weight-dropped LSTM layers."""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor, nn

from lightning_nlp.nn.awd_lstm.dropout import LockedDropout, embedding_dropout
from lightning_nlp.nn.awd_lstm.weight_drop_lstm import LayerState, WeightDropLSTM

EncoderState = list[LayerState]  # one (h, c) per layer, each (1, B, H_l)


class AWDLSTMEncoder(nn.Module):
    """Embedding (E) -> L LSTM layers of H units, the last one back to E (so a decoder can be
    tied to the embedding). Defaults are the published sizes: 400, 1152, 3 layers.

    Dropouts, as in Merity et al. (2018): `embed_dropout` drops whole words, `input_dropout`
    is locked dropout on the embeddings, `hidden_dropout` locked dropout between layers and
    `weight_dropout` DropConnect on each layer's hidden-to-hidden weights.

    Args:
        vocab_size: V.  embed_dim: E.  hidden_dim: H.  num_layers: L.
        pad_id: id of `<pad>` (its embedding gets no gradient).
        embed_dropout, input_dropout, hidden_dropout, weight_dropout: see above.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 400,
        hidden_dim: int = 1152,
        num_layers: int = 3,
        pad_id: int = 0,
        embed_dropout: float = 0.1,
        input_dropout: float = 0.65,
        hidden_dropout: float = 0.3,
        weight_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.vocab_size, self.embed_dim = vocab_size, embed_dim
        self.embed_dropout = embed_dropout
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        sizes = [embed_dim] + [hidden_dim] * (num_layers - 1) + [embed_dim]
        self.layers = nn.ModuleList(
            WeightDropLSTM(sizes[i], sizes[i + 1], weight_dropout) for i in range(num_layers)
        )
        self.input_dropout = LockedDropout(input_dropout)
        self.hidden_dropout = LockedDropout(hidden_dropout)

    def dropped_weights(self) -> list[Tensor]:
        """Each layer's hidden-to-hidden weight with a fresh DropConnect mask, to share across
        the chunks of one document: autograd then keeps one copy per layer, not one per chunk."""
        return [layer.dropped_weight_hh() for layer in self.layers]

    def forward(
        self,
        tokens: Tensor,
        state: EncoderState | None = None,
        weights: list[Tensor] | None = None,
    ) -> tuple[Tensor, EncoderState]:
        """tokens: (B, T) ids; weights: optional `dropped_weights()` to use. Returns the last
        layer's output (B, T, E), before any output dropout, and the new state."""
        x = self.embedding(tokens)  # (B, T, E)
        x = embedding_dropout(x, tokens, self.vocab_size, self.embed_dropout, self.training)
        x = self.input_dropout(x)
        new_state: EncoderState = []
        for i, layer in enumerate(self.layers):
            layer_weight = None if weights is None else weights[i]
            x, layer_state = layer(x, None if state is None else state[i], layer_weight)
            new_state.append(layer_state)
            if i < len(self.layers) - 1:
                x = self.hidden_dropout(x)
        return x, new_state

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """[embedding], then one group per LSTM layer, bottom to top."""
        groups = [list(self.embedding.parameters())]
        return groups + [list(layer.parameters()) for layer in self.layers]


def encoder_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The entries of a network's `init_args` that configure its `AWDLSTMEncoder`."""
    names = inspect.signature(AWDLSTMEncoder).parameters
    return {name: value for name, value in arguments.items() if name in names}
