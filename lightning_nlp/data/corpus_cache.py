"""Language-model corpora: token id streams per split, built from cached token tables."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lightning_nlp.data.io import CorpusError, file_digest, read_lines
from lightning_nlp.data.token_cache import TokenTable, tokenize_cached
from lightning_nlp.data.tokenize import TokenizerName
from lightning_nlp.data.vocab import Vocab


@dataclass(frozen=True)
class LMCorpus:
    """Token id streams per split, their vocabulary, and where they came from."""

    vocab: Vocab
    streams: dict[str, np.ndarray]  # split -> (N,) int32 ids, each line followed by <eos>
    files: dict[str, str]  # split -> "name sha256"
    fingerprint: str  # hash of the files' bytes and every setting that shapes the streams


def load_lm_corpus(
    files: dict[str, Path],
    tokenizer: TokenizerName = "whitespace",
    max_vocab: int | None = None,
    min_freq: int = 1,
    encoding: str = "utf-8",
    cache_dir: str | Path | None = None,
) -> LMCorpus:
    """Tokenises each line of each split file, appends `<eos>`, and maps tokens to ids.

    The vocabulary comes from the "train" split only. Tokenisation is cached per file.
    """
    if "train" not in files:
        raise ValueError("files must contain a 'train' split")
    for path in files.values():
        if not Path(path).is_file():
            raise CorpusError(f"{path}: file not found")
    digests = {split: file_digest(path) for split, path in files.items()}
    tables: dict[str, TokenTable] = {}
    for split, path in files.items():
        if digests[split] not in tables:
            lines = read_lines(path, encoding)
            tables[digests[split]] = tokenize_cached(
                lines,
                tokenizer,
                cache_dir,
                content_key=f"{digests[split]}|{encoding}",
                desc=f"tokenizing {Path(path).name}",
            )
    vocab = Vocab.build(tables[digests["train"]].counts(), max_size=max_vocab, min_freq=min_freq)
    streams = {split: _with_eos(tables[digests[split]], vocab) for split in files}
    settings = {
        "files": digests,
        "tokenizer": tokenizer,
        "max_vocab": max_vocab,
        "min_freq": min_freq,
        "encoding": encoding,
    }
    fingerprint = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    described = {split: f"{Path(files[split]).name} {digests[split]}" for split in files}
    return LMCorpus(vocab, streams, described, fingerprint)


def _with_eos(table: TokenTable, vocab: Vocab) -> np.ndarray:
    """(N + D,) ids with `<eos>` after every document."""
    return np.insert(table.numericalize(vocab), table.offsets[1:], vocab.eos_id).astype(np.int32)
