"""The user's own labelled files: CSV, TSV or JSON lines with named text and label columns."""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.classification.tables import TableFormat, read_table


class TableFilesDataModule(ClassificationDataModule):
    """Labelled text from the user's CSV/TSV/JSONL files in `data_dir`.

    Args:
        train_file, test_file: file names in `data_dir`.
        val_file: optional; without it validation is held out of train.
        text_column, label_column: column names (or positions "0", "1" without a header).
        format, delimiter, quotechar, header, encoding: how to read the files.
    """

    def __init__(
        self,
        data_dir: str,
        train_file: str = "train.csv",
        test_file: str = "test.csv",
        val_file: str | None = None,
        text_column: str = "text",
        label_column: str = "label",
        format: TableFormat = "auto",
        delimiter: str | None = None,
        quotechar: str = '"',
        header: bool = True,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, **kwargs)
        self.files = {"train": train_file, "valid": val_file, "test": test_file}
        self.read_options = dict(
            text_column=text_column,
            label_column=label_column,
            format=format,
            delimiter=delimiter,
            quotechar=quotechar,
            header=header,
            encoding=encoding,
        )

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        return {
            split: read_table(self.data_dir / name, **self.read_options)
            for split, name in self.files.items()
            if name is not None and (split in needed or (split == "train" and "valid" in needed))
        }
