"""ULMFiT's classifier: the AWD-LSTM encoder read in chunks (BPT3C), concat pooling, and a
head of batch-normalised linear blocks."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from lightning_nlp.nn.awd_lstm.encoder import AWDLSTMEncoder, encoder_arguments
from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.recurrent_state import state_batch_size


class AWDLSTMClassifier(nn.Module):
    """Classifies documents of any length with memory bounded by `max_len`.

    BPT3C (Howard & Ruder 2018): the document runs through the encoder in `bptt`-token chunks,
    the recurrent state carried from one chunk to the next; only the chunks of the last
    `max_len` positions keep their graph, so gradients reach those tokens alone and activation
    memory does not grow with the document. The right-padded batch is first laid out so that
    every document starts on a chunk boundary and ends in the last chunk (`aligned`): a
    document joins the batch at its first chunk with a zero state (no work is spent on the
    padding before it), and the gradient window holds the
    end of every document, not only of the longest (at least `max_len - bptt + 1` of its last
    tokens, all of them if it is shorter). Pooling is running over the chunks and reads real
    tokens only: the output at the document's last token, and the max and mean over its tokens
    (concatenated: 3E features). The weight-drop mask is drawn once per document, so the
    dropped weights are stored once, not once per chunk. The encoder is causal, so the padding
    after a document never changes its features.

    Args:
        vocab_size, num_classes, pad_id: linked from the data module.
        embed_dim, hidden_dim, num_layers, embed_dropout, input_dropout, hidden_dropout,
            weight_dropout: see `AWDLSTMEncoder` (defaults: the fine-tuning dropouts of ULMFiT).
        bptt: chunk length.
        max_len: tokens at the end of the batch that get gradients.
        head_dims: widths of the hidden linear blocks of the head.
        head_dropouts: dropout before each linear layer of the head (len(head_dims) + 1).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        pad_id: int = 0,
        embed_dim: int = 400,
        hidden_dim: int = 1152,
        num_layers: int = 3,
        embed_dropout: float = 0.025,
        input_dropout: float = 0.2,
        hidden_dropout: float = 0.15,
        weight_dropout: float = 0.25,
        bptt: int = 72,
        max_len: int = 1440,
        head_dims: Sequence[int] = (50,),
        head_dropouts: Sequence[float] = (0.2, 0.1),
    ) -> None:
        super().__init__()
        if len(head_dropouts) != len(head_dims) + 1:
            raise ValueError(
                f"head_dropouts needs {len(head_dims) + 1} values (one per linear layer), "
                f"got {list(head_dropouts)}"
            )
        self.init_args = init_arguments(locals())
        self.bptt, self.max_len = bptt, max_len
        self.encoder = AWDLSTMEncoder(**encoder_arguments(self.init_args))
        widths = [3 * embed_dim, *head_dims]
        blocks: list[nn.Module] = []
        for i, p in enumerate(head_dropouts[:-1]):
            blocks += [
                nn.BatchNorm1d(widths[i]),
                nn.Dropout(p),
                nn.Linear(widths[i], widths[i + 1]),
            ]
            blocks.append(nn.ReLU())
        blocks += [nn.BatchNorm1d(widths[-1]), nn.Dropout(head_dropouts[-1])]
        blocks.append(nn.Linear(widths[-1], num_classes))
        self.head = nn.Sequential(*blocks)

    @property
    def embedding(self) -> nn.Embedding:
        return self.encoder.embedding

    def chunks(self, length: int) -> list[tuple[int, int, bool]]:
        """(start, end, with_grad) of the chunks of an aligned batch `length` tokens long: every
        multiple of `bptt` starts a chunk (documents start there), and the chunk holding the
        start of the last `max_len` positions is split so that exactly those get gradients."""
        grad_from = max(0, length - self.max_len)
        spans = []
        for start in range(0, length, self.bptt):
            end = min(start + self.bptt, length)
            if start < grad_from < end:
                spans += [(start, grad_from, False), (grad_from, end, True)]
            else:
                spans.append((start, end, start >= grad_from))
        return spans

    def aligned(self, tokens: Tensor, lengths: Tensor, pad_id: int) -> tuple[Tensor, Tensor]:
        """tokens: (B, T) right-padded; lengths: (B,). Returns (B, L) tokens where each document
        is shifted right by whole chunks so that its last token falls in the last chunk, which
        stops at the last token of any document, and the (B,) offset of each document."""
        chunks = -(-lengths // self.bptt)  # (B,) chunks each document spans
        offsets = (chunks.max() - chunks) * self.bptt  # (B,)
        total = int((offsets + lengths).max())
        source = torch.arange(total, device=tokens.device)[None, :] - offsets[:, None]  # (B, L)
        real = (source >= 0) & (source < lengths[:, None])
        picked = tokens.gather(1, source.clamp(0, tokens.shape[1] - 1))
        return torch.where(real, picked, torch.full_like(picked, pad_id)), offsets

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T) right-padded ids; lengths: (B,) >= 1. Returns (B, 3E) features."""
        batch = tokens.shape[0]
        lengths = lengths.to(tokens.device)
        order = torch.argsort(lengths, descending=True, stable=True)  # later starters last
        tokens, lengths = tokens[order], lengths[order]
        tokens, first_index = self.aligned(tokens, lengths, self.encoder.embedding.padding_idx or 0)
        last_index = first_index + lengths - 1  # (B,) positions in the aligned batch (B, L)
        size = (batch, self.encoder.embed_dim)
        last = running_max = running_sum = None
        state = None
        weights = self.encoder.dropped_weights()  # one DropConnect mask for the whole document
        for start, end, with_grad in self.chunks(tokens.shape[1]):
            active = int((first_index <= start).sum())  # documents begun: a prefix of the rows
            if state is not None and state_batch_size(state) < active:
                state = tree_map(partial(_grow_rows, rows=active), state)  # new ones start at zero
            with torch.set_grad_enabled(with_grad and torch.is_grad_enabled()):
                output, state = self.encoder(tokens[:active, start:end], state, weights)
            output = _grow_rows(output, batch, dim=0)  # (B, t, E), contiguous as the encoder's
            output = output.float()  # pooled in fp32: a bf16 sum over a long document drifts
            if last is None:
                last = output.new_zeros(size)
                running_max = output.new_full(size, float("-inf"))
                running_sum = output.new_zeros(size)
            positions = torch.arange(start, end, device=tokens.device)  # (t,)
            real = (positions >= first_index[:, None]) & (positions <= last_index[:, None])
            real = real.unsqueeze(-1)  # (B, t, 1)
            chunk_max = output.masked_fill(~real, float("-inf")).amax(dim=1)  # (B, E)
            running_max = torch.maximum(running_max, chunk_max)
            running_sum = running_sum + (output * real).sum(dim=1)
            ends_here = (last_index >= start) & (last_index < end)  # (B,)
            at_end = output[torch.arange(batch), (last_index - start).clamp(0, end - start - 1)]
            last = torch.where(ends_here[:, None], at_end, last)  # (B, E)
        mean = running_sum / lengths[:, None].to(running_sum.dtype)
        features = torch.cat([last, running_max, mean], dim=1)  # (B, 3E), longest first
        return features[torch.argsort(order)]

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T) right-padded ids; lengths: (B,) real lengths. Returns logits (B, C)."""
        features = self.encode(tokens, lengths)  # (B, 3E)
        if self.training and features.shape[0] == 1:  # batch norm has no batch statistics
            return self._head_with_running_statistics(features)
        return self.head(features)

    def _head_with_running_statistics(self, features: Tensor) -> Tensor:
        norms = [m for m in self.head if isinstance(m, nn.BatchNorm1d)]
        for norm in norms:
            norm.eval()
        try:
            return self.head(features)
        finally:
            for norm in norms:
                norm.train()

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Embedding, each LSTM layer bottom to top, then the head: the groups of
        discriminative learning rates and gradual unfreezing."""
        return [*self.encoder.layer_groups(), list(self.head.parameters())]


def _grow_rows(t: Tensor, rows: int, dim: int = 1) -> Tensor:
    """(L, b, H) -> (L, rows, H) (rows on `dim`), the new rows zero; as contiguous as `t`."""
    if t.shape[dim] == rows:
        return t
    size = list(t.shape)
    size[dim] = rows - t.shape[dim]
    return torch.cat([t, t.new_zeros(size)], dim=dim)
