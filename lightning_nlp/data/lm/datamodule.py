"""Language-model DataModule over plain-text files: one line is one document or paragraph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader

from lightning_nlp.data.lm.stream import BPTTSampler, LMStream
from lightning_nlp.data.resumable_loader import ResumableLoader
from lightning_nlp.data.seeds import order_seed
from lightning_nlp.data.stages import STAGE_SPLITS, stage_splits
from lightning_nlp.data.text.artifacts import load_artifacts, save_artifacts
from lightning_nlp.data.text.corpus_cache import corpus_fingerprint, lm_ids, lm_vocab, tokenize_file
from lightning_nlp.data.text.download import Source, ensure_files
from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.data.text.token_cache import TokenTable
from lightning_nlp.data.text.tokenize import TokenizerName
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.data.vocab_datamodule import VocabDataModule


class TextFilesLMDataModule(VocabDataModule):
    """Contiguous BPTT batches from train/valid/test text files in `data_dir`.

    Each line is tokenised and ends with `<eos>`; the vocabulary comes from the training file,
    or from `vocab_path` (a run's `vocab.json` or a checkpoint), in which case the training
    file is not read unless training. Each stage reads only the files it needs. Batches are
    `(input, target)` pairs of shape (B, T), consecutive along each row so the model can carry
    its hidden state. Subclasses name a corpus's files and where to get them.

    Args:
        data_dir: folder holding the files.
        train_file, val_file, test_file: file names inside `data_dir` (the same file may serve
            twice, e.g. validation and test).
        batch_size: training rows B per device.
        eval_batch_size: rows for validation and test.
        bptt: window length T.
        variable_bptt: draw training window lengths as in AWD-LSTM.
        backwards: read the text right to left (backward LM).
        tokenizer: tokeniser name.
        max_vocab: vocabulary size cap, specials included.
        min_freq: minimum training count for a token to enter the vocabulary.
        encoding: text encoding of the files.
        cache_dir: where tokenised files are cached (default ~/.cache/lightning_nlp).
        vocab_path: use this saved vocabulary instead of building one from the training file.
        order_seed: seed of the variable-length window schedule; default: the run's
            `seed_everything`.
    """

    sources: dict[str, Source] = {}  # file name -> official address, for corpora that have one

    def __init__(
        self,
        data_dir: str,
        train_file: str = "train.txt",
        val_file: str = "valid.txt",
        test_file: str = "test.txt",
        batch_size: int = 20,
        eval_batch_size: int = 10,
        bptt: int = 35,
        variable_bptt: bool = False,
        backwards: bool = False,
        tokenizer: TokenizerName = "whitespace",
        max_vocab: int | None = None,
        min_freq: int = 1,
        encoding: str = "utf-8",
        cache_dir: str | None = None,
        vocab_path: str | None = None,
        order_seed: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self._vocab: Vocab | None = None
        self._tables: dict[str, tuple[TokenTable, str]] = {}  # split -> (table, file sha256)
        self._streams: dict[str, LMStream] = {}

    @property
    def bptt(self) -> int:
        return self.hparams.bptt

    def split_file(self, split: str) -> Path:
        """Path of a split's file, fetched first if the corpus has an official address."""
        name = {
            "train": self.hparams.train_file,
            "valid": self.hparams.val_file,
            "test": self.hparams.test_file,
        }[split]
        return ensure_files(self.data_dir, [name], self.sources)[0]

    def table(self, split: str) -> tuple[TokenTable, str]:
        if split not in self._tables:
            hp = self.hparams
            self._tables[split] = tokenize_file(
                self.split_file(split), hp.tokenizer, hp.encoding, hp.cache_dir
            )
        return self._tables[split]

    @property
    def vocab(self) -> Vocab:
        if self._vocab is None:
            if self.hparams.vocab_path:
                self._vocab = load_artifacts(self.hparams.vocab_path)[0]
            else:
                self._vocab = lm_vocab(
                    self.table("train")[0], self.hparams.max_vocab, self.hparams.min_freq
                )
        return self._vocab

    def stream(self, split: str) -> np.ndarray:
        """(N,) int32 token ids of a split, `<eos>` after every line."""
        return lm_ids(self.table(split)[0], self.vocab)

    def provenance(self) -> dict[str, Any]:
        """What a run needs to record to be repeatable: files, settings and vocabulary."""
        hp = self.hparams
        digests = {split: self.table(split)[1] for split in ("train", "valid")}
        return {
            "data/files": {s: f"{self.split_file(s).name} {d}" for s, d in digests.items()},
            "data/corpus_fingerprint": corpus_fingerprint(
                digests,
                tokenizer=hp.tokenizer,
                encoding=hp.encoding,
                vocab=self.vocab.fingerprint,
            ),
            "data/vocab_fingerprint": self.vocab.fingerprint,
            "data/vocab_size": self.vocab_size,
            "data/tokens": {s: len(self.table(s)[0].ids) + len(self.table(s)[0]) for s in digests},
        }

    def save_artifacts(self, folder: str | Path) -> None:
        save_artifacts(folder, self.vocab)

    def prepare_data(self) -> None:
        """Tokenises and caches, once and on rank 0 only, the files the stage needs."""
        for split in stage_splits(self.trainer, bool(self.hparams.vocab_path)):
            self.table(split)

    def setup(self, stage: str) -> None:
        rank, world_size = 0, 1
        if self.trainer is not None:
            rank, world_size = self.trainer.global_rank, self.trainer.world_size
        hp = self.hparams
        sizes = {"train": hp.batch_size, "valid": hp.eval_batch_size, "test": hp.eval_batch_size}
        for split in STAGE_SPLITS.get(stage, ()):
            try:
                self._streams[split] = LMStream(
                    self.stream(split), sizes[split], rank, world_size, hp.backwards
                )
            except ValueError as error:
                raise CorpusError(f"{self.split_file(split)}: {error}") from None
        if self.trainer is not None and stage == "fit" and self.trainer.logger is not None:
            self.trainer.logger.log_hyperparams(self.provenance())

    def _loader(self, split: str, variable: bool) -> DataLoader:
        stream = self._streams[split]
        seed = order_seed(self.hparams.order_seed)
        sampler = BPTTSampler(stream, self.hparams.bptt, variable, seed)
        if split == "train":  # training: resumable mid-epoch
            return ResumableLoader(stream, sampler)
        return DataLoader(stream, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.hparams.variable_bptt)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)

    def data_state(self) -> dict[str, Any]:
        return {"backwards": self.hparams.backwards}
