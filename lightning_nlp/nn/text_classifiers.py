"""Classic text classifiers over padded batches: averaged embeddings and RNN/LSTM/GRU encoders.

Both read only real tokens: the averaging model divides by the true length, and the recurrent
model runs over packed sequences, so adding padding to a batch never changes a document's output.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lightning_nlp.nn.functional import lengths_to_mask, masked_max, masked_mean
from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.mlp_head import MLPHead
from lightning_nlp.nn.padded_rnn import run_padded

CellType = Literal["rnn", "lstm", "gru"]
Pooling = Literal["last", "mean", "max"]


class AveragedEmbeddingClassifier(nn.Module):
    """Mean of the word embeddings of the real tokens, then an MLP head.

    Args:
        vocab_size: V.  embed_dim: E.  num_classes: C.
        head_hidden_dim: hidden width of the head, 0 for linear.
        dropout: on the averaged vector.
        pad_id: id of `<pad>`.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        num_classes: int,
        head_hidden_dim: int = 0,
        dropout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.head = MLPHead(embed_dim, num_classes, head_hidden_dim, dropout)

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T) ids; lengths: (B,) real lengths. Returns logits (B, C)."""
        mask = lengths_to_mask(lengths, tokens.shape[1])  # (B, T)
        return self.head(masked_mean(self.embedding(tokens), mask))  # (B, C)


class RNNClassifier(nn.Module):
    """Embedding, then a (bi)directional RNN/LSTM/GRU over packed sequences, pooled, then a head.

    `pooling="last"` takes the final state of each direction at the document's last real token
    (the forward direction's end and the backward direction's start), `mean`/`max` pool the
    outputs over real tokens.

    Args:
        vocab_size: V.  embed_dim: E.  hidden_dim: H per direction.  num_classes: C.
        cell: "rnn", "lstm" or "gru".  num_layers: L.  bidirectional: two directions.
        pooling: "last", "mean" or "max".
        dropout: on embeddings, between layers and on the pooled features.
        head_hidden_dim: hidden width of the head, 0 for linear.
        pad_id: id of `<pad>`.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_dim: int,
        num_classes: int,
        cell: CellType = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: Pooling = "last",
        dropout: float = 0.0,
        head_hidden_dim: int = 0,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.init_args = init_arguments(locals())
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn_class(
            embed_dim,
            hidden_dim,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.pooling = pooling
        self.num_directions = 2 if bidirectional else 1
        self.packed = True  # False: the padded path of exported graphs (same results)
        self.head = MLPHead(hidden_dim * self.num_directions, num_classes, head_hidden_dim, dropout)

    def embed(self, tokens: Tensor) -> Tensor:
        """tokens: (B, T) -> the recurrent layer's inputs (B, T, E)."""
        return self.dropout(self.embedding(tokens))

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T); lengths: (B,), all >= 1. Returns pooled features (B, D * H)."""
        return self.recur(self.embed(tokens), lengths)

    def recur(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        """embedded: (B, T, E); lengths: (B,). The RNN over real tokens, pooled: (B, D * H)."""
        if self.packed:
            packed_out, state = self.rnn(
                pack_padded_sequence(
                    embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
                )
            )
            h_n = state[0] if isinstance(state, tuple) else state  # (L * D, B, H)
            last = h_n[-self.num_directions :]  # (D, B, H)
        else:  # exported graphs (TorchScript, ONNX) cannot hold packed sequences
            output, last = run_padded(self.rnn, embedded, lengths)  # (B, T, D * H), (D, B, H)
        if self.pooling == "last":
            return last.transpose(0, 1).flatten(1).float()  # (B, D * H), fp32 under bf16
        if self.packed:
            output, _ = pad_packed_sequence(
                packed_out, batch_first=True, total_length=embedded.shape[1]
            )
            # batch-first padding returns a transposed view: made contiguous once, so what reads
            # it never meets that layout (oneDNN's bf16 products on it are ~20x slower, AMX)
            output = output.contiguous()  # (B, T, D * H)
        mask = lengths_to_mask(lengths, embedded.shape[1]).to(output.device)  # (B, T)
        pool = masked_mean if self.pooling == "mean" else masked_max
        return pool(output.float(), mask)  # (B, D * H); pooled in fp32 (a bf16 sum drifts)

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T) ids; lengths: (B,) real lengths. Returns logits (B, C)."""
        return self.head(self.encode(tokens, lengths))  # (B, C)
