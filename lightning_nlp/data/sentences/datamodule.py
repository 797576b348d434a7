"""Sentence batches for bidirectional LM pretraining (ELMo): characters in, word ids out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lightning_nlp.data.classification.dataset import SortishBatchSampler
from lightning_nlp.data.resumable_loader import ResumableLoader
from lightning_nlp.data.seeds import order_seed
from lightning_nlp.data.text.artifacts import save_artifacts
from lightning_nlp.data.text.io import CorpusError, read_lines
from lightning_nlp.data.text.token_cache import TokenTable, tokenize_cached
from lightning_nlp.data.text.tokenize import TokenizerName
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.data.vocab_datamodule import VocabDataModule
from lightning_nlp.nn.elmo.characters import token_char_ids

log = logging.getLogger(__name__)
SENTENCE_ENDS = (".", "!", "?")


class SentenceBatch(NamedTuple):
    chars: Tensor  # (B, T, 50) char ids, all-zero rows after each sentence
    targets: Tensor  # (B, T + 2) word ids of <bos> w_1 .. w_n <eos>, then <pad>
    lengths: Tensor  # (B,) words per sentence
    loss_scale: float = 1.0  # see RankBatch


class SentenceDataset(Dataset[SentenceBatch]):
    """Sentences as indices into a token table; indexed by a list of positions, one batch.

    Args:
        sentences: one (n_i,) array of token-table indices per sentence, each non-empty.
        char_table: (types, 50) char ids of each distinct token.
        word_ids: (types,) each distinct token's softmax id (`<unk>` for rare ones).
    """

    def __init__(
        self, sentences: list[np.ndarray], char_table: np.ndarray, word_ids: np.ndarray
    ) -> None:
        self.sentences, self.char_table, self.word_ids = sentences, char_table, word_ids
        self.lengths = np.fromiter((len(s) for s in sentences), np.int64, len(sentences))

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, indices: list[int]) -> SentenceBatch:
        lengths = self.lengths[indices]
        longest = int(lengths.max())
        chars = np.zeros((len(indices), longest, self.char_table.shape[1]), np.int64)
        targets = np.full((len(indices), longest + 2), Vocab.pad_id, np.int64)
        targets[:, 0] = Vocab.bos_id
        for row, i in enumerate(indices):
            sentence, n = self.sentences[i], lengths[row]
            chars[row, :n] = self.char_table[sentence]
            targets[row, 1 : n + 1] = self.word_ids[sentence]
            targets[row, n + 1] = Vocab.eos_id
        return SentenceBatch(
            torch.from_numpy(chars),
            torch.from_numpy(targets),
            torch.from_numpy(lengths),
            getattr(indices, "loss_scale", 1.0),
        )


def split_sentences(table: TokenTable, max_len: int) -> list[np.ndarray]:
    """Cuts each document after `.`/`!`/`?` and every `max_len` tokens; the pieces."""
    ends = np.isin(table.ids, [i for i, t in enumerate(table.types) if t in SENTENCE_ENDS])
    cuts = np.union1d(table.offsets, np.flatnonzero(ends) + 1)
    pieces = []
    for start, stop in zip(cuts[:-1], cuts[1:]):
        for piece_start in range(int(start), int(stop), max_len):
            pieces.append(table.ids[piece_start : min(piece_start + max_len, stop)])
    return pieces


class SentenceLMDataModule(VocabDataModule):
    """Documents -> tokenised sentences -> length-sorted batches of char ids and word ids.

    Subclasses implement `documents()`. A seeded `val_fraction` of the documents is held out
    for validation. The softmax vocabulary comes from the training sentences (the `max_vocab`
    most frequent words); the inputs are characters, so every word keeps its spelling.

    Args:
        data_dir: folder of the corpus.
        tokenizer: tokeniser name.
        max_vocab: softmax vocabulary size, specials included.
        min_freq: minimum training count for a softmax word.
        max_len: longer sentences are cut into pieces of at most this many tokens.
        batch_size, eval_batch_size: sentences per batch.
        val_fraction: share of documents held out for validation.
        split_seed: seed of that split.
        order_seed: seed of the training batch order; default: the run's `seed_everything`.
        cache_dir: tokenisation cache (default ~/.cache/lightning_nlp).
    """

    def __init__(
        self,
        data_dir: str,
        tokenizer: TokenizerName = "nltk",
        max_vocab: int | None = 50000,
        min_freq: int = 1,
        max_len: int = 50,
        batch_size: int = 64,
        eval_batch_size: int = 128,
        val_fraction: float = 0.01,
        split_seed: int = 0,
        order_seed: int | None = None,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self._tables: dict[str, TokenTable] = {}
        self._vocab: Vocab | None = None
        self._datasets: dict[str, SentenceDataset] = {}

    def documents(self) -> list[str]:
        raise NotImplementedError

    def table(self, split: str) -> TokenTable:
        """The split's documents, tokenised (cached on disk)."""
        if split not in self._tables:
            docs = self.documents()
            if not docs:
                raise CorpusError(f"{self.data_dir}: no documents to train a language model on")
            order = np.random.default_rng(self.hparams.split_seed).permutation(len(docs))
            held = max(1, int(round(len(docs) * self.hparams.val_fraction)))
            if held >= len(docs):
                raise CorpusError(f"{self.data_dir}: {len(docs)} documents are too few to hold out")
            chosen = np.sort(order[:held] if split == "valid" else order[held:])
            self._tables[split] = tokenize_cached(
                [docs[i] for i in chosen],
                self.hparams.tokenizer,
                self.hparams.cache_dir,
                desc=f"tokenizing {split}",
            )
        return self._tables[split]

    @property
    def vocab(self) -> Vocab:
        if self._vocab is None:
            self._vocab = Vocab.build(
                self.table("train").counts(), self.hparams.max_vocab, self.hparams.min_freq
            )
        return self._vocab

    def dataset(self, split: str) -> SentenceDataset:
        if split not in self._datasets:
            table = self.table(split)
            sentences = split_sentences(table, self.hparams.max_len)
            sentences = [s for s in sentences if len(s)]
            word_ids = np.asarray(self.vocab.encode(table.types), dtype=np.int64)
            chars = token_char_ids(table.types).astype(np.int16)  # ids < 263
            self._datasets[split] = SentenceDataset(sentences, chars, word_ids)
            log.info("%s: %d sentences, %d tokens", split, len(sentences), len(table.ids))
        return self._datasets[split]

    def prepare_data(self) -> None:
        for split in ("train", "valid"):
            self.table(split)

    def setup(self, stage: str) -> None:
        for split in ("train", "valid"):
            self.dataset(split)

    def save_artifacts(self, folder: str | Path) -> None:
        save_artifacts(folder, self.vocab, None)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.dataset(split)
        rank, world = (
            (0, 1) if self.trainer is None else (self.trainer.global_rank, self.trainer.world_size)
        )
        size = self.hparams.batch_size if shuffle else self.hparams.eval_batch_size
        seed = order_seed(self.hparams.order_seed)
        predictions = data.lengths + 1  # a per-token loss: each word and the sentence end
        sampler = SortishBatchSampler(
            data.lengths, size, shuffle, seed, rank, world, loss_weights=predictions
        )
        if shuffle:  # training: resumable mid-epoch
            return ResumableLoader(data, sampler)
        return DataLoader(data, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)


class SentenceFilesDataModule(SentenceLMDataModule):
    """The user's own text: every `*.txt` file of `data_dir`, one document a line (UTF-8)."""

    def documents(self) -> list[str]:
        files = sorted(self.data_dir.glob("*.txt"))
        if not files:
            raise CorpusError(f"{self.data_dir}: no .txt files (one document a line) found")
        return [line for path in files for line in read_lines(path) if line.strip()]


class IMDbSentenceDataModule(SentenceLMDataModule):
    """IMDb reviews (train, test and unlabelled: 100k) as LM text, `<br />` removed.

    Args:
        max_documents: a seeded sample of this many reviews (None: all).
    """

    def __init__(self, data_dir: str, max_documents: int | None = None, **kwargs: Any) -> None:
        super().__init__(data_dir, **kwargs)
        self.max_documents = max_documents

    def documents(self) -> list[str]:
        from lightning_nlp.data.classification.imdb import iter_imdb

        texts = [text.replace("<br />", " ") for *_, text, _ in iter_imdb(self.data_dir)]
        if self.max_documents is not None and self.max_documents < len(texts):
            chosen = np.random.default_rng(0).choice(len(texts), self.max_documents, replace=False)
            texts = [texts[i] for i in np.sort(chosen)]
        return texts
