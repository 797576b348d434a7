"""Language-model corpora: each file tokenised once (cached by content), numericalised with a
vocabulary built from the training file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from lightning_nlp.data.text.io import CorpusError, file_digest, read_lines
from lightning_nlp.data.text.token_cache import TokenTable, tokenize_cached
from lightning_nlp.data.text.tokenize import TokenizerName
from lightning_nlp.data.text.vocab import Vocab


def tokenize_file(
    path: Path,
    tokenizer: TokenizerName,
    encoding: str = "utf-8",
    cache_dir: str | Path | None = None,
) -> tuple[TokenTable, str]:
    """The file's token table (one document a line) and the file's sha256.

    A second call with the same file contents and settings reads the cache; tokenising
    is skipped even though the file is hashed.
    """
    if not Path(path).is_file():
        raise CorpusError(f"{path}: file not found")
    digest = file_digest(path)
    table = tokenize_cached(
        _LazyLines(path, encoding),
        tokenizer,
        cache_dir,
        content_key=f"{digest}|{encoding}",
        desc=f"tokenizing {Path(path).name}",
    )
    return table, digest


class _LazyLines:
    """The file's lines, read only if the token cache misses."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path, self.encoding = path, encoding
        self._lines: list[str] | None = None

    def _get(self) -> list[str]:
        if self._lines is None:
            self._lines = read_lines(self.path, self.encoding)
        return self._lines

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]


def lm_vocab(train: TokenTable, max_vocab: int | None = None, min_freq: int = 1) -> Vocab:
    return Vocab.build(train.counts(), max_size=max_vocab, min_freq=min_freq)


def lm_ids(table: TokenTable, vocab: Vocab) -> np.ndarray:
    """(N + D,) int32 ids with `<eos>` after every document (line)."""
    return np.insert(table.numericalize(vocab), table.offsets[1:], vocab.eos_id).astype(np.int32)


def corpus_fingerprint(digests: dict[str, str], **settings: Any) -> str:
    """Short hash of the files' bytes and every setting that shapes the streams."""
    payload = json.dumps({"files": digests, **settings}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
