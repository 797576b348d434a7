"""Tokenised text stored as a token table, cached on disk by content and tokeniser.

A `TokenTable` keeps each distinct token once and the text as int32 indices into that list,
so it is independent of any vocabulary: counting is a `bincount` and mapping to a vocabulary
is one array lookup. Loading a cached table of 100k reviews takes well under a second. Each
cache folder is written whole under a temporary name and renamed into place (a second process
building the same one keeps its own result and discards its copy), and carries checksums of
its files: a truncated or altered cache is tokenised again, never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lightning_nlp.data.text.io import file_digest
from lightning_nlp.data.text.tokenize import TokenizerName, get_tokenizer
from lightning_nlp.data.text.vocab import Vocab

TOKENIZE_VERSION = 1  # bump when a tokeniser's output changes
_CHUNK = 256
TABLE_FILES = ("types.json", "ids.npy", "offsets.npy")
CHECKSUMS = "checksums.json"  # blake2b of each table file: a damaged cache is rebuilt, not used
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenTable:
    """Documents as indices into a table of distinct tokens."""

    types: list[str]  # distinct tokens, in order of first appearance
    ids: np.ndarray  # (N,) int32 indices into `types`, documents concatenated
    offsets: np.ndarray  # (D + 1,) int64: document d is ids[offsets[d]:offsets[d + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def document(self, index: int) -> list[str]:
        return [self.types[i] for i in self.ids[self.offsets[index] : self.offsets[index + 1]]]

    def counts(self) -> Counter[str]:
        return Counter(
            dict(zip(self.types, np.bincount(self.ids, minlength=len(self.types)).tolist()))
        )

    def numericalize(self, vocab: Vocab) -> np.ndarray:
        """(N,) vocabulary ids of all tokens; tokens outside `vocab` become `<unk>`."""
        mapping = np.asarray(vocab.encode(self.types), dtype=np.int32)
        return mapping[self.ids]


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lightning_nlp"


def tokenize_cached(
    texts: Sequence[str],
    tokenizer: TokenizerName,
    cache_dir: str | Path | None = None,
    content_key: str | None = None,
    desc: str = "tokenizing",
    workers: int | None = None,
) -> TokenTable:
    """Tokenises `texts` on all cores with a progress bar, or loads the cached result.

    The cache key hashes the tokeniser, `TOKENIZE_VERSION` and the texts themselves (or
    `content_key`, e.g. the source file's checksum, when the caller already has one).
    """
    if content_key is None:
        digest = hashlib.sha256()
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
        content_key = digest.hexdigest()
    key = hashlib.sha256(f"{TOKENIZE_VERSION}|{tokenizer}|{content_key}".encode()).hexdigest()[:24]
    folder = Path(cache_dir or default_cache_dir()) / f"tokens-{key}"
    if folder.is_dir():
        try:
            return _load(folder)
        except (OSError, ValueError) as error:  # truncated, tampered or half-deleted
            log.warning("%s: damaged token cache (%s): tokenising again", folder, error)
            shutil.rmtree(folder, ignore_errors=True)
    table = _tokenize(texts, get_tokenizer(tokenizer), desc, workers)
    _save(folder, table)
    return table


def tokenize_texts(texts: Sequence[str], tokenizer: TokenizerName) -> TokenTable:
    """A few texts (a request, a batch to predict) as a table, in this process, not cached."""
    return _tokenize(texts, get_tokenizer(tokenizer), "", 1, progress=False)


def _tokenize(
    texts: Sequence[str],
    tokenizer: Callable[[str], list[str]],
    desc: str,
    workers: int | None,
    progress: bool = True,
) -> TokenTable:
    workers = workers or os.cpu_count() or 1
    chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
    work = _LocalTable(tokenizer)
    stoi: dict[str, int] = {}
    ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    with tqdm(
        total=len(texts), desc=desc, unit="doc", mininterval=0.5, disable=not progress
    ) as bar:
        if workers == 1 or len(chunks) < 4:
            results = map(work, chunks)
            pool = None
        else:
            pool = get_context("fork").Pool(workers)
            results = pool.imap(work, chunks)
        try:
            for local_types, local_ids, local_lengths in results:
                to_global = np.fromiter(
                    (stoi.setdefault(t, len(stoi)) for t in local_types), np.int32, len(local_types)
                )
                ids.append(to_global[local_ids])
                lengths.append(local_lengths)
                bar.update(len(local_lengths))
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if lengths:
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
    flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)
    return TokenTable(list(stoi), flat.astype(np.int32), offsets)


class _LocalTable:
    """Worker: tokenises a chunk into (chunk types, indices into them, document lengths)."""

    def __init__(self, tokenizer: Callable[[str], list[str]]) -> None:
        self.tokenizer = tokenizer

    def __call__(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        stoi: dict[str, int] = {}
        ids: list[int] = []
        lengths = np.empty(len(texts), dtype=np.int64)
        for d, text in enumerate(texts):
            tokens = self.tokenizer(text)
            ids += [stoi.setdefault(t, len(stoi)) for t in tokens]
            lengths[d] = len(tokens)
        return list(stoi), np.asarray(ids, dtype=np.int32), lengths


def _digest(path: Path) -> str:
    return file_digest(path, "blake2b")


def _load(folder: Path) -> TokenTable:
    """The cached table, after checking every file against the folder's checksums and the
    table against itself; raises ValueError (or OSError) if anything is off."""
    expected = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
    for name in TABLE_FILES:
        if _digest(folder / name) != expected.get(name):
            raise ValueError(f"{name} does not match its checksum")
    types = json.loads((folder / "types.json").read_text(encoding="utf-8"))
    ids, offsets = np.load(folder / "ids.npy"), np.load(folder / "offsets.npy")
    if offsets[0] != 0 or offsets[-1] != len(ids) or (len(ids) and ids.max() >= len(types)):
        raise ValueError("the table's offsets or ids are out of range")
    return TokenTable(types, ids, offsets)


def _save(folder: Path, table: TokenTable) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    (tmp / "types.json").write_text(json.dumps(table.types, ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "ids.npy", table.ids)
    np.save(tmp / "offsets.npy", table.offsets)
    checksums = {name: _digest(tmp / name) for name in TABLE_FILES}
    (tmp / CHECKSUMS).write_text(json.dumps(checksums), encoding="utf-8")
    try:
        os.replace(tmp, folder)  # atomic: readers see all three files or none
    except OSError:  # another process cached the same texts first
        shutil.rmtree(tmp, ignore_errors=True)
