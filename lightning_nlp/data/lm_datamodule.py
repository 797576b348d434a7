"""Language-model DataModule over plain-text files: one line is one document or paragraph."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from lightning_nlp.data.corpus_cache import LMCorpus, load_lm_corpus
from lightning_nlp.data.download import Source, ensure_files
from lightning_nlp.data.io import CorpusError
from lightning_nlp.data.lm_stream import BPTTSampler, LMStream
from lightning_nlp.data.tokenize import TokenizerName
from lightning_nlp.data.vocab import Vocab

log = logging.getLogger(__name__)
SPLITS = ("train", "valid", "test")


class TextFilesLMDataModule(pl.LightningDataModule):
    """Contiguous BPTT batches from train/valid/test text files in `data_dir`.

    Each line is tokenised and ends with `<eos>`; the vocabulary comes from the training file.
    Batches are `(input, target)` pairs of shape (B, T), consecutive along each row so the
    model can carry its hidden state. Subclasses name a corpus's files and where to get them.

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
        cache_dir: where numericalised corpora are cached (default ~/.cache/lightning_nlp).
        seed: seed of the variable-length window schedule.
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
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self._corpus: LMCorpus | None = None
        self._streams: dict[str, LMStream] = {}

    def split_files(self) -> dict[str, Path]:
        """Paths of the train/valid/test files, fetched first if the corpus has an address."""
        names = [self.hparams.train_file, self.hparams.val_file, self.hparams.test_file]
        paths = ensure_files(self.data_dir, list(dict.fromkeys(names)), self.sources)
        by_name = {path.name: path for path in paths}
        return {split: by_name[Path(name).name] for split, name in zip(SPLITS, names)}

    @property
    def corpus(self) -> LMCorpus:
        if self._corpus is None:
            hp = self.hparams
            self._corpus = load_lm_corpus(
                self.split_files(),
                hp.tokenizer,
                hp.max_vocab,
                hp.min_freq,
                hp.encoding,
                hp.cache_dir,
            )
        return self._corpus

    @property
    def vocab(self) -> Vocab:
        return self.corpus.vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def provenance(self) -> dict[str, Any]:
        """What a run needs to record to be repeatable: files, settings and vocabulary."""
        return {
            "data/files": self.corpus.files,
            "data/corpus_fingerprint": self.corpus.fingerprint,
            "data/vocab_fingerprint": self.vocab.fingerprint,
            "data/vocab_size": self.vocab_size,
            "data/tokens": {split: int(len(ids)) for split, ids in self.corpus.streams.items()},
        }

    def prepare_data(self) -> None:
        self.corpus  # tokenises and caches once, on rank 0  # noqa: B018

    def setup(self, stage: str) -> None:
        rank, world_size = 0, 1
        if self.trainer is not None:
            rank, world_size = self.trainer.global_rank, self.trainer.world_size
            if stage == "fit" and self.trainer.logger is not None:
                self.trainer.logger.log_hyperparams(self.provenance())
        hp = self.hparams
        for split, batch_size in (
            ("train", hp.batch_size),
            ("valid", hp.eval_batch_size),
            ("test", hp.eval_batch_size),
        ):
            ids = self.corpus.streams[split]
            try:
                self._streams[split] = LMStream(ids, batch_size, rank, world_size, hp.backwards)
            except ValueError as error:
                raise CorpusError(f"{self.split_files()[split]}: {error}") from None

    def _loader(self, split: str, variable: bool) -> DataLoader:
        stream = self._streams[split]
        sampler = BPTTSampler(stream, self.hparams.bptt, variable, self.hparams.seed)
        return DataLoader(stream, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.hparams.variable_bptt)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)

    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints so that generation and resuming use the same vocabulary."""
        return {
            "vocab": self.vocab.itos,
            "tokenizer": self.hparams.tokenizer,
            "backwards": self.hparams.backwards,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict.get("vocab") != self.vocab.itos:
            raise CorpusError(
                "the checkpoint was trained with a different vocabulary than this data module "
                f"builds from {self.data_dir}; use the same files and vocabulary settings"
            )
