"""Base DataModule for text classification: read, split, tokenise, numericalise, batch by length."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader

from lightning_nlp.data.classification.dataset import (
    ClassificationDataset,
    SortishBatchSampler,
    prediction_documents,
    split_documents,
)
from lightning_nlp.data.classification.labeled_texts import (
    LabeledTexts,
    nested_stratified_sample,
    stratified_split,
)
from lightning_nlp.data.classification.tables import read_table
from lightning_nlp.data.resumable_loader import ResumableLoader
from lightning_nlp.data.seeds import order_seed
from lightning_nlp.data.stages import STAGE_SPLITS, stage_splits
from lightning_nlp.data.text.artifacts import load_artifacts, save_artifacts
from lightning_nlp.data.text.io import CorpusError, read_lines, split_lines
from lightning_nlp.data.text.token_cache import TokenTable, tokenize_cached
from lightning_nlp.data.text.tokenize import TokenizerName
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.data.vocab_datamodule import VocabDataModule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassificationSplit:
    documents: list[np.ndarray]  # id arrays, each non-empty
    labels: np.ndarray  # (N,) class ids
    skipped_empty: int  # documents empty after tokenisation, left out and counted


class ClassificationDataModule(VocabDataModule):
    """Reads a corpus's labelled splits and serves length-sorted, padded batches.

    Subclasses implement `read_splits(needed)`, returning at least the `needed` splits among
    "train", "valid" and "test" (a corpus without a validation split returns "train", from
    which a stratified `val_fraction` is held out with `split_seed`). The vocabulary and label
    set come from train, or from `vocab_path` (a run's `vocab.json` beside its `labels.json`,
    or a checkpoint): then `test` and `predict` never read the training data. A validation or
    test label that the label set lacks is an error naming the example's file and line.
    Documents that are empty after tokenisation are skipped, counted, and reported in the log.

    Args:
        data_dir: folder of the corpus files.
        tokenizer: tokeniser name.
        max_vocab: vocabulary size cap, specials included.
        min_freq: minimum training count for a token to enter the vocabulary.
        max_len: keep at most the first `max_len` tokens of a document.
        batch_size: training batch size per device.
        eval_batch_size: validation/test/predict batch size.
        val_fraction: share of train held out for validation when the corpus has no valid split.
        split_seed: seed of that held-out split.
        order_seed: seed of the training batch order; default: the run's `seed_everything`.
        cache_dir: tokenisation cache (default ~/.cache/lightning_nlp).
        vocab_path: use this saved vocabulary (and its label set, if saved with it) instead of
            building them: a run's `vocab.json`, a checkpoint, or a model folder's `vocab.json`
            (a classifier on a pretrained language model's vocabulary).
        predict_file: text file to classify with `predict`, one document a line; "-" is stdin.
        backwards: each document read right to left (for a backward ULMFiT classifier).
        train_size: train on a stratified sample of this many labelled documents (few-label
            experiments), drawn with `subset_seed`. Samples of one seed are nested (that of
            100 lies inside that of 500), and validation is held out before sampling, so it
            is the same for every `train_size` and `subset_seed`.
        subset_seed: seed of the `train_size` sample; default `split_seed`.
        min_epoch_docs: a training epoch reads at least this many documents, the training set
            repeated, each copy shuffled anew (few-label runs: steps an epoch as with more
            labels; see `SortishBatchSampler`). None: each document once.
        eval_words_in_vocab: when a validation, test or prediction split is read, give its
            words that the vocabulary lacks ids after the vocabulary (`spelled_words`), not
            `<unk>`. For character-level embedders (ELMo), which read a word's spelling and need
            no trained row for it. The vocabulary (its size, `vocab.json`) stays the training
            text's: nothing is built from evaluation text before it is read.
        pseudo_labels: a JSON-lines file of `{"text": ..., "label": ...}` documents labelled by
            a model, not by people (self-training: `lightning-nlp curve --methods
            [ulmfit_pseudo]` writes them from the corpus's unlabelled text), added to the
            training documents after the `train_size` sample. Their labels must be among the
            training split's; validation and test are unchanged.
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
        split_seed: int = 0,
        order_seed: int | None = None,
        cache_dir: str | None = None,
        vocab_path: str | None = None,
        predict_file: str | None = None,
        backwards: bool = False,
        train_size: int | None = None,
        subset_seed: int | None = None,
        min_epoch_docs: int | None = None,
        eval_words_in_vocab: bool = False,
        pseudo_labels: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self._texts: dict[str, LabeledTexts] = {}
        self._tables: dict[str, TokenTable] = {}
        self._splits: dict[str, ClassificationSplit] = {}
        self._vocab: Vocab | None = None
        self._spelling: Vocab | None = None  # vocab, then the unseen words of splits read
        self._label_names: list[str] | None = None
        self._datasets: dict[str, ClassificationDataset] = {}
        self._unsampled: list[str] = []  # training texts outside the `train_size` sample

    # -- what a corpus provides -------------------------------------------------------------
    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        raise NotImplementedError

    def unlabeled_texts(self) -> list[str]:
        """Documents without labels, for pseudo-labelling: here the training documents that the
        `train_size` sample leaves out, their labels unread (a corpus with unlabelled text of
        its own, as IMDb's `unsup` reviews, returns that instead)."""
        self.texts("train")
        if not self._unsampled:
            raise CorpusError(f"{self.data_dir}: no unlabelled text: {type(self).__name__} has "
                              "none of its own, and --data.train_size leaves no training "
                              "document out")  # fmt: skip
        return self._unsampled

    # -- vocabulary and labels: from the training split, or the saved artifacts ----------------
    def _load_artifacts(self) -> None:
        """Vocabulary (and labels, when saved with it: a language model's has none, and the
        labels then come from the training split)."""
        vocab, labels = load_artifacts(self.hparams.vocab_path)
        self._vocab = vocab
        if labels is not None:  # a language model's folder has none: keep the training split's
            self._label_names = labels

    @property
    def vocab(self) -> Vocab:
        if self._vocab is None:
            if self.hparams.vocab_path:
                self._load_artifacts()
            else:
                self._vocab = Vocab.build(
                    self.train_token_counts(),
                    max_size=self.hparams.max_vocab,
                    min_freq=self.hparams.min_freq,
                )
        return self._vocab

    @property
    def spelled_words(self) -> list[str]:
        """The vocabulary, then (`eval_words_in_vocab`) the words of the evaluation and
        prediction splits read so far that it lacks, in id order: what a character-level
        embedder spells out."""
        return (self.vocab if self._spelling is None else self._spelling).itos

    def _reading_vocab(self, name: str, table: TokenTable) -> Vocab:
        """The vocabulary that encodes split `name`: training text and, without
        `eval_words_in_vocab`, every split read with the vocabulary; with it, an evaluation
        split's unseen words get ids after those given so far."""
        if name == "train" or not self.hparams.eval_words_in_vocab:
            return self.vocab
        known = self.vocab if self._spelling is None else self._spelling
        self._spelling = known.extended(table.types)
        return self._spelling

    @property
    def label_names(self) -> list[str]:
        if self._label_names is None and self.hparams.vocab_path and self._vocab is None:
            self._load_artifacts()
        if self._label_names is None:
            self._label_names = sorted(set(self.texts("train").labels))
        return self._label_names

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def pad_id(self) -> int:
        return self.vocab.pad_id

    def train_token_counts(self) -> Counter[str]:
        """Training-token counts, for the vocabulary and word-vector coverage."""
        return self._table("train").counts()

    # -- splits, read and tokenised only when a stage needs them -------------------------------
    def texts(self, split: str) -> LabeledTexts:
        """A split's labelled texts, as read (validation held out of train where needed)."""
        if split not in self._texts:
            # train and valid come together: valid may have to be held out of train
            needed = {"train", "valid"} if split in ("train", "valid") else {split}
            read = self.read_splits(needed)
            if split in ("train", "valid") and "valid" not in read:
                train = read["train"]
                kept, held = stratified_split(
                    train.labels, self.hparams.val_fraction, self.hparams.split_seed
                )
                read["train"], read["valid"] = train.subset(kept), train.subset(held)
            if "train" in read and self.hparams.train_size is not None:
                # the label set of the whole training split: a class the sample misses is
                # still a class (a test document of it is no error)
                self._label_names = self._label_names or sorted(set(read["train"].labels))
                read["train"] = self._few_labels(read["train"])
            if "train" in read and self.hparams.pseudo_labels is not None:
                read["train"] = self._with_pseudo_labels(read["train"])
            for name in needed | {split}:
                if name in read:
                    self._texts.setdefault(name, read[name])
            if split not in self._texts:
                raise CorpusError(f"{self.data_dir}: the corpus has no {split} split")
            if len(self._texts[split]) == 0:
                raise CorpusError(f"{self.data_dir}: the {split} split has no documents")
        return self._texts[split]

    def _few_labels(self, train: LabeledTexts) -> LabeledTexts:
        """A stratified sample of `train_size` training documents, seeded by `subset_seed` and
        nested: with the same seed, a smaller budget's sample lies inside a larger one's."""
        size, classes = self.hparams.train_size, len(set(train.labels))
        if size > len(train):
            raise CorpusError(
                f"--data.train_size {size}: the training split has only {len(train)} documents"
            )
        if size < classes:
            raise CorpusError(
                f"--data.train_size {size}: fewer documents than the {classes} classes"
            )
        seed = (
            self.hparams.split_seed
            if self.hparams.subset_seed is None
            else self.hparams.subset_seed
        )
        sample = nested_stratified_sample(train.labels, size, seed)
        kept = set(sample.tolist())
        self._unsampled = [text for i, text in enumerate(train.texts) if i not in kept]
        return train.subset(sample)

    def _with_pseudo_labels(self, train: LabeledTexts) -> LabeledTexts:
        """The training documents followed by the `pseudo_labels` file's; a label that the
        training split lacks is an error naming the line (it would otherwise become a class)."""
        self._label_names = self._label_names or sorted(set(train.labels))
        pseudo = read_table(self.hparams.pseudo_labels, "text", "label", format="jsonl")
        for label, origin in zip(pseudo.labels, pseudo.origins):
            if label not in self._label_names:
                raise CorpusError(f"{origin}: pseudo-label {label!r} is not a training label "
                                  f"(known labels: {self._label_names})")  # fmt: skip
        log.info("training on %d labelled and %d pseudo-labelled documents (%s)",
                 len(train), len(pseudo), self.hparams.pseudo_labels)  # fmt: skip
        return train.concat(pseudo)

    def _table(self, split: str) -> TokenTable:
        if split not in self._tables:
            self._tables[split] = tokenize_cached(
                self.texts(split).texts,
                self.hparams.tokenizer,
                self.hparams.cache_dir,
                desc=f"tokenizing {split}",
            )
        return self._tables[split]

    def split_tokens(self, name: str) -> list[list[str]]:
        """A split's documents as token strings before the vocabulary (rare words are kept,
        not `<unk>`), cut to `max_len` and in reading order even when `backwards`; aligned
        with `split(name)`. For count-based baselines, which need no vocabulary."""
        docs = self._token_lists(self._table(name))
        return [doc for doc in docs if doc]  # as `split`, which leaves out empty documents

    def unlabeled_tokens(self) -> tuple[list[str], list[list[str]]]:
        """The unlabelled documents that are not empty after tokenisation, as texts and as
        token strings (cut to `max_len`, as `split_tokens`), aligned."""
        texts = self.unlabeled_texts()
        table = tokenize_cached(
            texts, self.hparams.tokenizer, self.hparams.cache_dir, desc="tokenizing unlabelled"
        )
        pairs = [(t, d) for t, d in zip(texts, self._token_lists(table)) if d]
        return [t for t, _ in pairs], [d for _, d in pairs]

    def _token_lists(self, table: TokenTable) -> list[list[str]]:
        tokens = np.asarray(table.types, dtype=object)[table.ids]
        starts, ends = table.offsets[:-1], table.offsets[1:]
        if self.hparams.max_len is not None:
            ends = np.minimum(ends, starts + self.hparams.max_len)
        return [tokens[s:e].tolist() for s, e in zip(starts, ends)]

    def split(self, name: str) -> ClassificationSplit:
        """A split as id arrays and class ids, empty documents left out and counted."""
        if name not in self._splits:
            data = self.texts(name)
            label_ids = {label: i for i, label in enumerate(self.label_names)}
            for label, origin in zip(data.labels, data.origins):
                if label not in label_ids:
                    raise CorpusError(
                        f"{origin}: label {label!r} does not occur in the training data "
                        f"(known labels: {self.label_names})"
                    )
            table = self._table(name)
            vocab = self._reading_vocab(name, table)
            docs = split_documents(table, vocab, self.hparams.max_len, self.hparams.backwards)
            keep = [i for i, doc in enumerate(docs) if len(doc)]
            skipped = len(docs) - len(keep)
            if skipped:
                log.warning("%s: skipped %d empty documents", name, skipped)
            labels = np.asarray([label_ids[data.labels[i]] for i in keep])
            self._splits[name] = ClassificationSplit([docs[i] for i in keep], labels, skipped)
        return self._splits[name]

    # -- Lightning hooks ----------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Reads and tokenises, once and on rank 0 only, what the stage needs (the training
        split too when the vocabulary is built from it), into the on-disk cache."""
        for split in stage_splits(self.trainer, bool(self.hparams.vocab_path)):
            self._table(split)

    def setup(self, stage: str) -> None:
        for name in STAGE_SPLITS.get(stage, ()):
            split = self.split(name)
            self._datasets[name] = ClassificationDataset(split.documents, split.labels, self.pad_id)
        if stage == "predict":
            self._datasets["predict"] = self._predict_dataset()
        if self.trainer is not None and stage == "fit" and self.trainer.logger is not None:
            self.trainer.logger.log_hyperparams(
                {
                    "data/vocab_fingerprint": self.vocab.fingerprint,
                    "data/vocab_size": self.vocab_size,
                    "data/labels": self.label_names,
                    "data/sizes": {s: len(self._splits[s].documents) for s in self._splits},
                    "data/skipped_empty": {s: self._splits[s].skipped_empty for s in self._splits},
                }
            )

    def save_artifacts(self, folder: str | Path) -> None:
        save_artifacts(folder, self.vocab, self.label_names)

    def _predict_dataset(self) -> ClassificationDataset:
        source = self.hparams.predict_file
        if source is None:
            raise CorpusError("predict needs --data.predict_file (a text file, or - for stdin)")
        if source == "-" and self.trainer is not None and self.trainer.world_size > 1:
            raise CorpusError("predict from stdin runs on one device; under DDP pass a file")
        lines = split_lines(sys.stdin.read()) if source == "-" else read_lines(source)
        table = tokenize_cached(lines, self.hparams.tokenizer, self.hparams.cache_dir)
        vocab = self._reading_vocab("predict", table)
        docs = prediction_documents(table, vocab, self.hparams.max_len, self.hparams.backwards)
        return ClassificationDataset(docs, None, self.pad_id)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self._datasets[split]
        rank, world = (
            (0, 1) if self.trainer is None else (self.trainer.global_rank, self.trainer.world_size)
        )
        size = self.hparams.batch_size if shuffle else self.hparams.eval_batch_size
        seed = order_seed(self.hparams.order_seed)
        sampler = SortishBatchSampler(
            dataset.lengths, size, shuffle, seed, rank, world,
            min_epoch_docs=self.hparams.min_epoch_docs,
        )  # fmt: skip
        if shuffle:  # training: resumable mid-epoch
            return ResumableLoader(dataset, sampler)
        return DataLoader(dataset, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", shuffle=False)

    def data_state(self) -> dict[str, Any]:
        return {
            "labels": self.label_names,
            "max_len": self.hparams.max_len,
            "backwards": self.hparams.backwards,
        }
