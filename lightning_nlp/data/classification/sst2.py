"""SST-2, binary sentence sentiment: the `stsa.binary.*` files or the GLUE `train.tsv`/`dev.tsv`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.text.io import CorpusError, read_lines
from lightning_nlp.data.text.tokenize import TokenizerName

LABELS = {"0": "negative", "1": "positive"}


def read_stsa(path: Path) -> LabeledTexts:
    """`<0|1> <sentence>` a line."""
    data = LabeledTexts()
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        label, _, text = line.partition(" ")
        if label not in LABELS:
            raise CorpusError(
                f"{path}:{number}: expected '0 <text>' or '1 <text>', got {line[:40]!r}"
            )
        data.add(text, LABELS[label], f"{path}:{number}")
    return data


def read_glue_tsv(path: Path) -> LabeledTexts:
    """GLUE layout: header `sentence<TAB>label`, then one example a line."""
    lines = read_lines(path)
    header = lines[0].split("\t")
    if header[:2] != ["sentence", "label"]:
        raise CorpusError(
            f"{path}:1: expected the header 'sentence<TAB>label', got {lines[0][:40]!r}"
        )
    data = LabeledTexts()
    for number, line in enumerate(lines[1:], 2):
        fields = line.split("\t")
        if len(fields) != 2 or fields[1] not in LABELS:
            raise CorpusError(
                f"{path}:{number}: expected '<sentence><TAB><0|1>', got {line[:40]!r}"
            )
        data.add(fields[0], LABELS[fields[1]], f"{path}:{number}")
    return data


class SST2DataModule(ClassificationDataModule):
    """SST-2 from `stsa.binary.{train,dev,test}`, or GLUE's `train.tsv`/`dev.tsv` (GLUE's test
    labels are not public, so there dev is the test set and validation is held out of train)."""

    def __init__(self, data_dir: str, tokenizer: TokenizerName = "sst", **kwargs: Any) -> None:
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        stsa = {
            s: self.data_dir / f"stsa.binary.{n}"
            for s, n in (("train", "train"), ("valid", "dev"), ("test", "test"))
        }
        if any(stsa[split].is_file() for split in needed):
            return {split: read_stsa(path) for split, path in stsa.items() if split in needed}
        glue = {"train": "train.tsv", "test": "dev.tsv"}
        if any((self.data_dir / glue.get(split, "train.tsv")).is_file() for split in needed):
            wanted = {"train" if split == "valid" else split for split in needed}
            return {split: read_glue_tsv(self.data_dir / glue[split]) for split in wanted}
        raise CorpusError(
            f"{self.data_dir}: found neither stsa.binary.train nor train.tsv; put the SST-2 "
            "files there or pass --data.data_dir"
        )
