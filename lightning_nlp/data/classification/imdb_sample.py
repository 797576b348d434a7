"""The 1,000-review IMDb sample: `texts.csv` with columns `label,text,is_valid`."""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.classification.tables import read_table
from lightning_nlp.data.text.tokenize import TokenizerName


class IMDbSampleDataModule(ClassificationDataModule):
    """800 train / 200 valid reviews; the valid rows serve as the test set too, and validation
    is held out of the training rows."""

    def __init__(self, data_dir: str, tokenizer: TokenizerName = "ulmfit", **kwargs: Any) -> None:
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        path = self.data_dir / "texts.csv"
        rows = read_table(path, "text", "label")
        flags = read_table(path, "is_valid", "is_valid").labels
        train = [i for i, flag in enumerate(flags) if flag != "True"]
        valid = [i for i, flag in enumerate(flags) if flag == "True"]
        return {"train": rows.subset(train), "test": rows.subset(valid)}
