"""10kGNAD, German news articles in 9 topics: `train.csv`/`test.csv`, `;`-separated, `'`-quoted."""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.classification.table_files import TableFilesDataModule
from lightning_nlp.data.classification.tables import read_table
from lightning_nlp.data.text.tokenize import TokenizerName


class GNADDataModule(TableFilesDataModule):
    """10kGNAD from its `train.csv` and `test.csv` (rows `label;'text'`, no header)."""

    def __init__(self, data_dir: str, tokenizer: TokenizerName = "nltk", **kwargs: Any) -> None:
        super().__init__(
            data_dir,
            train_file="train.csv",
            test_file="test.csv",
            text_column="1",
            label_column="0",
            format="csv",
            delimiter=";",
            quotechar="'",
            header=False,
            tokenizer=tokenizer,
            **kwargs,
        )


def read_gnad_articles(path: str) -> LabeledTexts:
    """All 10,273 articles of `articles.csv`, in the same layout."""
    return read_table(path, "1", "0", "csv", ";", "'", header=False)
