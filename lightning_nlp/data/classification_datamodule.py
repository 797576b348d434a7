"""Base DataModule for text classification: read, split, tokenise, numericalise, batch by length."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from lightning_nlp.data.classification_dataset import ClassificationDataset, SortishBatchSampler
from lightning_nlp.data.io import CorpusError, atomic_write_text, read_lines
from lightning_nlp.data.labeled_texts import LabeledTexts, stratified_split
from lightning_nlp.data.token_cache import TokenTable, tokenize_cached
from lightning_nlp.data.tokenize import TokenizerName
from lightning_nlp.data.vocab import Vocab
from lightning_nlp.loggers import run_dir

log = logging.getLogger(__name__)
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class ClassificationCorpus:
    vocab: Vocab
    label_names: list[str]
    documents: dict[str, list[np.ndarray]]  # split -> id arrays, each non-empty
    labels: dict[str, np.ndarray]  # split -> (N,) class ids
    token_counts: dict[str, int]  # type -> training count, for vector coverage
    skipped_empty: dict[str, int]  # split -> documents empty after tokenisation


class ClassificationDataModule(pl.LightningDataModule):
    """Reads a corpus's labelled splits and serves length-sorted, padded batches.

    Subclasses implement `read_splits`, returning "train" and "test" (and "valid" where the
    corpus has one; otherwise a stratified `val_fraction` of train is held out with `seed`).
    The vocabulary and label set come from train; a validation or test label that train does
    not have is an error naming the example's file and line. Documents that are empty after
    tokenisation are skipped, counted, and reported in the log.

    Args:
        data_dir: folder of the corpus files.
        tokenizer: tokeniser name.
        max_vocab: vocabulary size cap, specials included.
        min_freq: minimum training count for a token to enter the vocabulary.
        max_len: keep at most the first `max_len` tokens of a document.
        batch_size: training batch size per device.
        eval_batch_size: validation/test/predict batch size.
        val_fraction: share of train held out for validation when the corpus has no valid split.
        seed: seed of that split and of the batch order.
        cache_dir: tokenisation cache (default ~/.cache/lightning_nlp).
        predict_file: text file to classify with `predict`, one document a line; "-" is stdin.
    """

    def __init__(
        self,
        data_dir: str,
        tokenizer: TokenizerName = "nltk",
        max_vocab: int | None = None,
        min_freq: int = 1,
        max_len: int | None = None,
        batch_size: int = 32,
        eval_batch_size: int = 128,
        val_fraction: float = 0.1,
        seed: int = 0,
        cache_dir: str | None = None,
        predict_file: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self._corpus: ClassificationCorpus | None = None
        self._datasets: dict[str, ClassificationDataset] = {}

    # -- what a corpus provides -------------------------------------------------------------
    def read_splits(self) -> dict[str, LabeledTexts]:
        raise NotImplementedError

    # -- derived sizes, known right after __init__ for LightningCLI links ---------------------
    @property
    def corpus(self) -> ClassificationCorpus:
        if self._corpus is None:
            self._corpus = self._build_corpus()
        return self._corpus

    @property
    def vocab(self) -> Vocab:
        return self.corpus.vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def label_names(self) -> list[str]:
        return self.corpus.label_names

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def pad_id(self) -> int:
        return self.vocab.pad_id

    def _build_corpus(self) -> ClassificationCorpus:
        hp = self.hparams
        splits = self.read_splits()
        if "valid" not in splits:
            kept, held = stratified_split(splits["train"].labels, hp.val_fraction, hp.seed)
            splits["valid"] = splits["train"].subset(held)
            splits["train"] = splits["train"].subset(kept)
        for split in SPLITS:
            if len(splits[split]) == 0:
                raise CorpusError(f"{self.data_dir}: the {split} split has no documents")
        label_names = sorted(set(splits["train"].labels))
        label_ids = {name: i for i, name in enumerate(label_names)}
        for split in ("valid", "test"):
            for label, origin in zip(splits[split].labels, splits[split].origins):
                if label not in label_ids:
                    raise CorpusError(
                        f"{origin}: label {label!r} does not occur in the training data "
                        f"(known labels: {label_names})"
                    )
        tables = {
            split: tokenize_cached(
                splits[split].texts, hp.tokenizer, hp.cache_dir, desc=f"tokenizing {split}"
            )
            for split in SPLITS
        }
        counts = tables["train"].counts()
        vocab = Vocab.build(counts, max_size=hp.max_vocab, min_freq=hp.min_freq)
        documents, labels, skipped = {}, {}, {}
        for split in SPLITS:
            docs = _split_documents(tables[split], vocab, hp.max_len)
            keep = [i for i, doc in enumerate(docs) if len(doc)]
            skipped[split] = len(docs) - len(keep)
            if skipped[split]:
                log.warning("%s: skipped %d empty documents", split, skipped[split])
            documents[split] = [docs[i] for i in keep]
            labels[split] = np.asarray([label_ids[splits[split].labels[i]] for i in keep])
        return ClassificationCorpus(vocab, label_names, documents, labels, dict(counts), skipped)

    # -- Lightning hooks ----------------------------------------------------------------------
    def prepare_data(self) -> None:
        self.corpus  # reads and tokenises once, on rank 0  # noqa: B018

    def setup(self, stage: str) -> None:
        corpus = self.corpus
        for split in SPLITS:
            self._datasets[split] = ClassificationDataset(
                corpus.documents[split], corpus.labels[split], self.pad_id
            )
        if self.trainer is not None and stage == "fit":
            self._save_maps()
        if stage == "predict":
            self._datasets["predict"] = self._predict_dataset()

    def _save_maps(self) -> None:
        folder = run_dir(self.trainer)
        if self.trainer.is_global_zero:
            self.vocab.save(folder / "vocab.json")
            atomic_write_text(folder / "labels.json", json.dumps(self.label_names))
        if self.trainer.logger is not None:
            self.trainer.logger.log_hyperparams(
                {
                    "data/vocab_fingerprint": self.vocab.fingerprint,
                    "data/vocab_size": self.vocab_size,
                    "data/labels": self.label_names,
                    "data/sizes": {s: len(d) for s, d in self.corpus.documents.items()},
                    "data/skipped_empty": self.corpus.skipped_empty,
                }
            )

    def _predict_dataset(self) -> ClassificationDataset:
        source = self.hparams.predict_file
        if source is None:
            raise CorpusError("predict needs --data.predict_file (a text file, or - for stdin)")
        lines = sys.stdin.read().splitlines() if source == "-" else read_lines(source)
        table = tokenize_cached(lines, self.hparams.tokenizer, self.hparams.cache_dir)
        docs = _split_documents(table, self.vocab, self.hparams.max_len)
        # an empty line still gets a prediction: it is read as a single unknown token
        docs = [doc if len(doc) else np.asarray([self.vocab.unk_id], np.int32) for doc in docs]
        return ClassificationDataset(docs, None, self.pad_id)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self._datasets[split]
        rank, world = (
            (0, 1) if self.trainer is None else (self.trainer.global_rank, self.trainer.world_size)
        )
        size = self.hparams.batch_size if shuffle else self.hparams.eval_batch_size
        sampler = SortishBatchSampler(
            dataset.lengths, size, shuffle, self.hparams.seed, rank, world
        )
        return DataLoader(dataset, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        return {
            "vocab": self.vocab.itos,
            "labels": self.label_names,
            "tokenizer": self.hparams.tokenizer,
            "max_len": self.hparams.max_len,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if (
            state_dict.get("vocab") != self.vocab.itos
            or state_dict.get("labels") != self.label_names
        ):
            raise CorpusError(
                f"the checkpoint was trained with another vocabulary or label set than this data "
                f"module builds from {self.data_dir}; use the same files and settings"
            )


def _split_documents(table: TokenTable, vocab: Vocab, max_len: int | None) -> list[np.ndarray]:
    ids = table.numericalize(vocab)
    starts, ends = table.offsets[:-1], table.offsets[1:]
    if max_len is not None:
        ends = np.minimum(ends, starts + max_len)
    return [ids[s:e] for s, e in zip(starts, ends)]
