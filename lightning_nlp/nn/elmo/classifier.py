"""A text classifier on ELMo vectors: the paper's TREC model (ELMo -> LSTM -> MLP)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.characters import MAX_WORD_LENGTH, token_char_ids
from lightning_nlp.nn.elmo.elmo import Elmo
from lightning_nlp.nn.functional import masked_mean
from lightning_nlp.nn.init_args import init_arguments
from lightning_nlp.nn.mlp_head import MLPHead
from lightning_nlp.nn.text_classifiers import CellType, Pooling, RNNClassifier


class ElmoClassifier(RNNClassifier):
    """`RNNClassifier` whose word embeddings are one ELMo mixture (frozen biLM by default),
    alone, or with `embed_dim > 0` after a trainable word embedding, [x_k; ELMo_k], as the
    paper adds ELMo to a task model (the embedding takes `vectors` like any other).

    It reads the data module's word ids, like every classifier of the project, and spells
    them out with a char-id table of the vocabulary (`set_vocabulary`, called by
    `TextClassifierTask` at setup, then saved with the weights). Words that the vocabulary
    lacks can still be spelled: the text being read gives them ids after the vocabulary
    (`spell_unseen`), so ELMo reads every word of validation, test and new text by its
    characters while the vocabulary itself is built from training text only.

    The biLM is built untrained from its architecture (`bilm`): its weights come with the
    checkpoint, or from the published files through `weights.elmo.PretrainedElmoClassifier`,
    the class that configs name (this module reads no file).

    Args:
        vocab_size, num_classes, pad_id: linked from the data module.
        bilm: the biLM's architecture (`BiLM` arguments, as `BiLM.init_args` records them).
        embed_dim: width of a trainable word embedding beside ELMo; 0: ELMo alone.
        elmo_dropout: on the ELMo mixtures.  layer_norm: see `ScalarMix`.
        elmo_output: a second mixture, averaged over the sentence's tokens, beside the RNN's
            pooled state before the head (the paper's ELMo at the task model's output);
            `elmo_dropout` and then the head's `dropout` apply to it.
        freeze_elmo: keep the biLM fixed (the paper's setting).
        other arguments: see `RNNClassifier`.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        bilm: dict[str, Any],
        embed_dim: int = 0,
        hidden_dim: int = 100,
        cell: CellType = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: Pooling = "last",
        dropout: float = 0.5,
        head_hidden_dim: int = 100,
        elmo_dropout: float = 0.5,
        layer_norm: bool = False,
        elmo_output: bool = False,
        freeze_elmo: bool = True,
        pad_id: int = 0,
    ) -> None:
        init_args = init_arguments(locals())
        bilm_module = BiLM(**bilm)
        init_args["bilm"] = bilm_module.init_args  # as BiLM records it (JSON-friendly)
        elmo = Elmo(bilm_module, 1 + elmo_output, elmo_dropout, layer_norm, freeze_elmo)
        super().__init__(
            vocab_size, max(embed_dim, 1), hidden_dim, num_classes, cell, num_layers,
            bidirectional, pooling, dropout, head_hidden_dim, pad_id,
        )  # fmt: skip
        if not embed_dim:
            del self.embedding
        self.rnn = type(self.rnn)(
            embed_dim + elmo.output_dim, hidden_dim, num_layers=num_layers, bidirectional=bidirectional,
            batch_first=True, dropout=dropout if num_layers > 1 else 0.0,
        )  # fmt: skip
        if elmo_output:
            features = hidden_dim * self.num_directions + elmo.output_dim
            self.head = MLPHead(features, num_classes, head_hidden_dim, dropout)
        self.elmo = elmo
        self.init_args = init_args
        self.vocab_size = vocab_size
        self._spelled = False  # char_table checked once: zeros mean no set_vocabulary
        # the vocabulary's words spelled out (saved with the weights) [V, 50]
        self.register_buffer(
            "char_table", torch.zeros(vocab_size, MAX_WORD_LENGTH, dtype=torch.int16)
        )
        # words that the text being read has and the vocabulary lacks, ids V, V + 1, ...:
        # spelled for ELMo while that text is read, never saved [U, 50]
        self.register_buffer(
            "unseen_chars", torch.zeros(0, MAX_WORD_LENGTH, dtype=torch.int16), persistent=False
        )
        # ids from word_limit[0] on reach the trainable word embedding as `<unk>` (word_limit[1]):
        # the unseen words, which have no trained row (as the word-only baselines see them).
        # Networks saved before unseen words stayed out of the vocabulary record a smaller limit.
        self.register_buffer("word_limit", torch.tensor([vocab_size, 0]))

    def set_vocabulary(self, itos: Sequence[str]) -> None:
        """Spells out each word id: the vocabulary's `vocab_size` words (`<pad>`, id `pad_id`,
        stays all zeros: no token), then any words after them (`spell_unseen`)."""
        if len(itos) < self.vocab_size:
            raise ValueError(f"{len(itos)} words for a vocabulary of {self.vocab_size}")
        table = torch.from_numpy(token_char_ids(list(itos[: self.vocab_size]))).to(torch.int16)
        table[self.init_args["pad_id"]] = 0
        self.char_table.copy_(table)
        trained = min(self.vocab_size, int(self.word_limit[0]))
        self.word_limit.copy_(torch.tensor([trained, list(itos).index("<unk>")]))
        self.spell_unseen(itos[self.vocab_size :])

    def spell_unseen(self, words: Sequence[str]) -> None:
        """Ids `vocab_size`, `vocab_size + 1`, ... are `words`: words that the text being read
        has and the vocabulary lacks (e.g. `Vocab.extended`), spelled for ELMo, `<unk>` for the
        word embedding. Replaces the previous text's; not part of the saved state."""
        table = torch.from_numpy(token_char_ids(list(words))).to(torch.int16) if words else None
        self.unseen_chars = (
            self.unseen_chars[:0] if table is None else table.to(self.char_table.device)
        )

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        # saved before the limit existed: every row trained; `<unk>` is id 1 (`Vocab.unk_id`)
        state_dict.setdefault(prefix + "word_limit", torch.tensor([len(self.char_table), 1]))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def encode(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens: (B, T) word ids; lengths: (B,). [word embedding;] ELMo -> RNN, pooled
        (B, D * H), [; the output mixture's mean (B, 2P)]."""
        if not self._spelled and not self.char_table.any():  # checked until it is set
            raise RuntimeError("ElmoClassifier: call set_vocabulary(itos) before using it")
        self._spelled = True
        table = self.char_table
        if len(self.unseen_chars):
            table = torch.cat([table, self.unseen_chars])  # (V + U, 50)
        chars = table[tokens].long()  # (B, T, 50)
        elmo = self.elmo(chars)
        inputs = elmo.representations[0]  # (B, T, 2P)
        if hasattr(self, "embedding"):
            trained, unk = self.word_limit[0], self.word_limit[1]
            words = torch.where(tokens >= trained, unk, tokens)  # (B, T)
            inputs = torch.cat([self.embed(words), inputs], dim=-1)  # (B, T, E + 2P)
        features = self.recur(inputs, lengths)  # (B, D * H)
        if len(elmo.representations) == 1:
            return features
        output_mix = masked_mean(elmo.representations[1], elmo.mask)  # (B, 2P)
        return torch.cat([features, output_mix], dim=-1)
