"""The user's own labelled files: CSV, TSV or JSON lines with named text and label columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.text.io import CorpusError, read_text, split_lines

TableFormat = Literal["auto", "csv", "tsv", "jsonl"]
MAX_FIELD = 16 * 2**20  # characters in one CSV field: the csv module's default is 128 KiB


def read_table(
    path: str | Path,
    text_column: str,
    label_column: str,
    format: TableFormat = "auto",
    delimiter: str | None = None,
    quotechar: str = '"',
    header: bool = True,
    encoding: str = "utf-8",
) -> LabeledTexts:
    """Rows of a CSV/TSV (with a header, or columns named by position "0", "1", ...) or JSON
    lines file. Errors name the file and line."""
    path = Path(path)
    if format == "auto":
        format = {".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(path.suffix, "csv")
    text = read_text(path, encoding)
    data = LabeledTexts()
    if format == "jsonl":
        for number, line in enumerate(split_lines(text), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                data.add(str(row[text_column]), str(row[label_column]), f"{path}:{number}")
            except (ValueError, KeyError, TypeError) as error:
                raise CorpusError(f"{path}:{number}: bad JSON line ({error!r})") from None
        return _not_empty(data, path)
    delimiter = delimiter or ("\t" if format == "tsv" else ",")
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))
    # the csv module splits records itself, so a quoted field keeps its newlines
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=True
    )
    try:
        names = next(reader) if header else None
    except csv.Error as error:
        raise CorpusError(f"{path}:1: {error}") from None
    columns = names or [str(i) for i in range(1 + max(int(text_column), int(label_column)))]
    for needed in (text_column, label_column):
        if needed not in columns:
            raise CorpusError(f"{path}:1: no column {needed!r}; the columns are {columns}")
    text_at, label_at = columns.index(text_column), columns.index(label_column)
    try:
        number = reader.line_num + 1
        for row in reader:  # `number` is the record's first line
            if not row:
                number = reader.line_num + 1
                continue
            if len(row) != len(columns):
                raise CorpusError(
                    f"{path}:{number}: expected {len(columns)} fields, found {len(row)}"
                )
            data.add(row[text_at], row[label_at], f"{path}:{number}")
            number = reader.line_num + 1
    except csv.Error as error:
        raise CorpusError(f"{path}:{reader.line_num}: {error}") from None
    return _not_empty(data, path)


def _not_empty(data: LabeledTexts, path: Path) -> LabeledTexts:
    if not len(data):
        raise CorpusError(f"{path}: no rows of text and label")
    return data


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
