"""Numericalised language-model corpora, cached on disk by content and settings.

The cache key hashes the input files' bytes, the tokeniser, the vocabulary settings and
`PIPELINE_VERSION`, so a changed file or setting never reuses a stale cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lightning_nlp.data.io import CorpusError, atomic_write_text, file_digest, read_lines
from lightning_nlp.data.tokenize import TokenizerName, get_tokenizer, tokenize_corpus
from lightning_nlp.data.vocab import Vocab

log = logging.getLogger(__name__)
PIPELINE_VERSION = 1


@dataclass(frozen=True)
class LMCorpus:
    """Token id streams per split, their vocabulary, and where they came from."""

    vocab: Vocab
    streams: dict[str, np.ndarray]  # split -> (N,) int32 ids
    files: dict[str, str]  # split -> "name sha256"
    fingerprint: str  # the cache key: hash of inputs and settings


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lightning_nlp"


def load_lm_corpus(
    files: dict[str, Path],
    tokenizer: TokenizerName = "whitespace",
    max_vocab: int | None = None,
    min_freq: int = 1,
    encoding: str = "utf-8",
    cache_dir: str | Path | None = None,
) -> LMCorpus:
    """Tokenises each line of each split file, appends `<eos>`, and maps tokens to ids.

    The vocabulary comes from the "train" split only. Results are cached under `cache_dir`.
    """
    if "train" not in files:
        raise ValueError("files must contain a 'train' split")
    digests = {split: file_digest(path) for split, path in files.items() if Path(path).is_file()}
    for split, path in files.items():
        if split not in digests:
            raise CorpusError(f"{path}: file not found")
    settings = {
        "version": PIPELINE_VERSION,
        "files": digests,
        "tokenizer": tokenizer,
        "max_vocab": max_vocab,
        "min_freq": min_freq,
        "encoding": encoding,
    }
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]
    described = {split: f"{Path(files[split]).name} {digests[split]}" for split in files}
    folder = Path(cache_dir or default_cache_dir()) / f"lm-{key}"
    if (folder / "meta.json").is_file():
        log.info("using cached corpus %s", folder)
        vocab = Vocab.load(folder / "vocab.json")
        streams = {split: np.load(folder / f"{split}.npy") for split in files}
        return LMCorpus(vocab, streams, described, key)

    tokenize = get_tokenizer(tokenizer)
    tokenized: dict[Path, list[list[str]]] = {}
    for path in dict.fromkeys(Path(p) for p in files.values()):
        lines = read_lines(path, encoding)
        tokenized[path] = tokenize_corpus(lines, tokenize, desc=f"tokenizing {path.name}")
    vocab = Vocab.build(tokenized[Path(files["train"])], max_size=max_vocab, min_freq=min_freq)
    streams = {}
    for split, path in files.items():
        ids = [i for doc in tokenized[Path(path)] for i in vocab.encode(doc) + [vocab.eos_id]]
        streams[split] = np.asarray(ids, dtype=np.int32)
    _write_cache(folder, vocab, streams, settings)
    return LMCorpus(vocab, streams, described, key)


def _write_cache(folder: Path, vocab: Vocab, streams: dict[str, np.ndarray], settings: dict) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    vocab.save(tmp / "vocab.json")
    for split, ids in streams.items():
        np.save(tmp / f"{split}.npy", ids)
    atomic_write_text(tmp / "meta.json", json.dumps(settings, indent=1))
    try:
        os.replace(tmp, folder)
    except OSError:  # another process wrote the same cache first
        shutil.rmtree(tmp, ignore_errors=True)
