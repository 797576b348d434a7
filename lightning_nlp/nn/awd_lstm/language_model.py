"""AWD-LSTM language model: the encoder, locked dropout, and a decoder tied to the embedding."""

from __future__ import annotations

from torch import Tensor, nn

from lightning_nlp.nn.awd_lstm.dropout import LockedDropout
from lightning_nlp.nn.awd_lstm.encoder import AWDLSTMEncoder, EncoderState, encoder_arguments
from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.recurrent_state import LMOutput


class AWDLSTMLanguageModel(nn.Module):
    """`AWDLSTMEncoder` -> locked dropout (`output_dropout`) -> linear decoder over V.

    Returns the raw and dropped last-layer outputs too, for the task's activation
    regularisation (AR on the dropped output, TAR on the raw one). Defaults are the paper's
    WikiText-2 settings (Merity et al. 2018).

    Args:
        vocab_size, embed_dim, hidden_dim, num_layers, pad_id, embed_dropout, input_dropout,
            hidden_dropout, weight_dropout: see `AWDLSTMEncoder`.
        output_dropout: locked dropout on the last layer's output.
        tie_weights: the decoder shares the embedding matrix.
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
        output_dropout: float = 0.4,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.encoder = AWDLSTMEncoder(**encoder_arguments(self.init_args))
        self.output_dropout = LockedDropout(output_dropout)
        self.decoder = nn.Linear(embed_dim, vocab_size)
        nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            self.decoder.weight = self.encoder.embedding.weight

    @property
    def embedding(self) -> nn.Embedding:
        return self.encoder.embedding

    def forward(self, tokens: Tensor, hidden: EncoderState | None = None) -> LMOutput:
        """tokens: (B, T) ids. Returns logits (B, T, V), the new state, and the last layer's
        output before (raw) and after (dropped) output dropout, each (B, T, E)."""
        raw, hidden = self.encoder(tokens, hidden)  # (B, T, E)
        dropped = self.output_dropout(raw)
        return LMOutput(self.decoder(dropped), hidden, raw, dropped)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """The LSTM layers bottom to top, then embedding and decoder (tied) as the top group,
        the order of ULMFiT's discriminative learning rates."""
        _, *layers = self.encoder.layer_groups()
        top = list(self.encoder.embedding.parameters())
        top += [p for p in self.decoder.parameters() if all(p is not q for q in top)]
        return [*layers, top]
