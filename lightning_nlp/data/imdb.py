"""IMDb Large Movie Review Dataset (Maas et al. 2011): `aclImdb_v1.tar.gz` or its `aclImdb/` folder."""

from __future__ import annotations

import tarfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from lightning_nlp.data.classification_datamodule import ClassificationDataModule
from lightning_nlp.data.download import Source, ensure_files
from lightning_nlp.data.io import CorpusError
from lightning_nlp.data.labeled_texts import LabeledTexts
from lightning_nlp.data.tokenize import TokenizerName

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
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            wanted = len(parts) == 4 and parts[1] in splits and parts[2] in folders
            if member.isfile() and wanted:
                raw = tar.extractfile(member).read()
                yield (
                    parts[1],
                    parts[2],
                    _decode(raw, f"{archive}:{member.name}"),
                    f"{archive}:{member.name}",
                )


def _decode(raw: bytes, origin: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{origin}: not valid utf-8") from None


class IMDbDataModule(ClassificationDataModule):
    """Binary sentiment of 25k train / 25k test reviews; validation is held out of train.

    `unsup_texts()` returns the 50k unlabelled reviews (with the training reviews they are the
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

    def unsup_texts(self) -> list[str]:
        return [text for _, _, text, _ in iter_imdb(self.data_dir, ["train"], ["unsup"])]
