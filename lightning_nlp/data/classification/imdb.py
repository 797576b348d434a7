"""IMDb Large Movie Review Dataset (Maas et al. 2011): `aclImdb_v1.tar.gz` or its `aclImdb/` folder."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.data.text.download import Source, ensure_files
from lightning_nlp.data.text.io import CorpusError, atomic_write_text, read_tar_gz
from lightning_nlp.data.text.token_cache import default_cache_dir
from lightning_nlp.data.text.tokenize import TokenizerName

ARCHIVE = "aclImdb_v1.tar.gz"
SOURCE = Source(
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "7c2ac02c03563afcf9b574c7e56c153a",
)
LABELS = {"pos": "positive", "neg": "negative"}


def iter_imdb(
    data_dir: str | Path,
    splits: Collection[str] = ("train", "test"),
    folders: Collection[str] = ("pos", "neg", "unsup"),
) -> Iterator[tuple[str, str, str, str]]:
    """(split, folder, text, origin) for every review of the given splits (train/test) and
    folders (pos/neg/unsup); other reviews are not read. Reads the extracted `aclImdb/` folder
    when present, else the tarball (downloading it when missing and online)."""
    data_dir = Path(data_dir)
    folder = data_dir / "aclImdb"
    if folder.is_dir():
        for path in sorted(folder.glob("*/*/*.txt")):
            split, label = path.parts[-3], path.parts[-2]
            if split in splits and label in folders:
                yield split, label, _decode(path.read_bytes(), str(path)), str(path)
        return
    archive = ensure_files(data_dir, [ARCHIVE], {ARCHIVE: SOURCE})[0]

    def wanted(name: str) -> bool:
        parts = name.split("/")
        return len(parts) == 4 and parts[1] in splits and parts[2] in folders

    for name, raw in read_tar_gz(archive, wanted):
        split, label = name.split("/")[1:3]
        yield split, label, _decode(raw, f"{archive}:{name}"), f"{archive}:{name}"


def _decode(raw: bytes, origin: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{origin}: not valid utf-8") from None


class IMDbDataModule(ClassificationDataModule):
    """Binary sentiment of 25k train / 25k test reviews; validation is held out of train.

    `unlabeled_texts()` returns the 50k unlabelled reviews (with the training reviews they are the
    target-domain text for language-model fine-tuning).
    """

    def __init__(self, data_dir: str, tokenizer: TokenizerName = "ulmfit", **kwargs: Any) -> None:
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        wanted = needed | ({"train"} if "valid" in needed else set())
        splits = {name: LabeledTexts() for name in ("train", "test") if name in wanted}
        for split, label, text, origin in iter_imdb(self.data_dir, list(splits), list(LABELS)):
            if split in splits:
                splits[split].add(text, LABELS[label], origin)
        return splits

    def unlabeled_texts(self) -> list[str]:
        return [text for _, _, text, _ in iter_imdb(self.data_dir, ["train"], ["unsup"])]


class IMDbLMDataModule(TextFilesLMDataModule):
    """Language modelling on IMDb's review text, labels unused: ULMFiT's target corpus for
    fine-tuning (train, test and unsup reviews, as in Howard & Ruder 2018).

    The reviews are shuffled with `split_seed`, optionally cut to `max_reviews`, and written
    once, one a line, to `train.txt` and `valid.txt` (`val_fraction` of them) in a folder of
    the cache directory named after these settings; every later run reads those files.

    Args:
        data_dir: folder of `aclImdb_v1.tar.gz` or `aclImdb/`.
        splits: which IMDb splits' text to use.
        max_reviews: use at most this many reviews (CPU-sized runs); None: all.
        val_fraction: share of the reviews held out for validation (and test).
        split_seed: seed of the shuffle.
        tokenizer: tokeniser name (ULMFiT's rules by default).
        **kwargs: as for `TextFilesLMDataModule` (batch_size, bptt, variable_bptt, ...).
    """

    def __init__(
        self,
        data_dir: str,
        splits: list[str] | None = None,
        max_reviews: int | None = None,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        tokenizer: TokenizerName = "ulmfit",
        **kwargs: Any,
    ) -> None:
        kwargs.update(train_file="train.txt", val_file="valid.txt", test_file="valid.txt")
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)

    def text_folder(self) -> Path:
        hp = self.hparams
        splits = sorted(hp.splits or ["train", "test"])
        archive = Path(self.data_dir) / ARCHIVE
        source = archive if archive.is_file() else Path(self.data_dir) / "aclImdb"
        identity = f"{source.resolve()}|{splits}|{hp.max_reviews}|{hp.val_fraction}|{hp.split_seed}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:12]
        return Path(hp.cache_dir or default_cache_dir()) / f"imdb-lm-{key}"

    def split_file(self, split: str) -> Path:
        folder = self.text_folder()
        stamp = folder / "COMPLETE"
        if not stamp.is_file():
            self._write_texts(folder)
            atomic_write_text(stamp, "done\n")
        name = {"train": "train.txt", "valid": "valid.txt", "test": "valid.txt"}[split]
        return folder / name

    def _write_texts(self, folder: Path) -> None:
        hp = self.hparams
        splits = hp.splits or ["train", "test"]
        texts = [
            " ".join(text.split("\n"))
            for _, _, text, _ in iter_imdb(self.data_dir, splits, ("pos", "neg", "unsup"))
        ]
        order = np.random.default_rng(hp.split_seed).permutation(len(texts))
        if hp.max_reviews is not None:
            order = order[: hp.max_reviews]
        held = max(1, round(hp.val_fraction * len(order)))
        for name, part in (("valid.txt", order[:held]), ("train.txt", order[held:])):
            atomic_write_text(folder / name, "".join(texts[i] + "\n" for i in part))
