"""TREC question classification (Li & Roth 2002): 6 coarse or 50 fine classes, ISO-8859-1 files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.text.io import CorpusError, read_lines
from lightning_nlp.data.text.tokenize import TokenizerName


def read_trec(path: Path, fine: bool = False) -> LabeledTexts:
    """`COARSE:fine question tokens` a line, e.g. `NUM:dist How far is it ... ?`."""
    data = LabeledTexts()
    for number, line in enumerate(read_lines(path, encoding="iso-8859-1"), 1):
        if not line.strip():
            continue
        label, _, text = line.partition(" ")
        coarse, colon, fine_label = label.partition(":")
        if not colon or not coarse or not fine_label or not text.strip():
            raise CorpusError(
                f"{path}:{number}: expected 'COARSE:fine question', got {line[:40]!r}"
            )
        data.add(text, label if fine else coarse, f"{path}:{number}")
    return data


class TRECDataModule(ClassificationDataModule):
    """TREC from `train_5500.label` and `TREC_10.label`; validation is held out of train.

    Args:
        fine: use the 50 fine labels (`NUM:dist`) instead of the 6 coarse ones (`NUM`).
    """

    def __init__(
        self,
        data_dir: str,
        fine: bool = False,
        tokenizer: TokenizerName = "whitespace",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)
        self.fine = fine

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        files = {"train": "train_5500.label", "test": "TREC_10.label"}
        return {
            split: read_trec(self.data_dir / name, self.fine)
            for split, name in files.items()
            if split in needed or (split == "train" and "valid" in needed)
        }
