"""Reading labelled rows from CSV, TSV or JSON-lines files, with errors that name the file and
line: the user's own corpora (`TableFilesDataModule`) and pseudo-labelled documents."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Literal

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
