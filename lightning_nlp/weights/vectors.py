"""Pretrained word vectors through gensim: loading, embedding matrices with coverage, training.

Formats: word2vec text (`.txt`/`.vec` with a header line) and binary (`.bin`), GloVe text (no
header), fastText `.vec` (word2vec text) and `.bin` (with subword vectors, so unknown words
get vectors too), gensim's own `.kv`, and gensim downloader names such as
`glove-wiki-gigaword-300`, which need a network connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from gensim.models import KeyedVectors
from torch import Tensor

from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.data.text.vocab import SPECIALS, Vocab

log = logging.getLogger(__name__)
VectorFormat = Literal["auto", "word2vec", "word2vec_bin", "glove", "fasttext_bin", "kv"]


def guess_format(path: Path) -> VectorFormat:
    """From the file name: .kv gensim, .bin word2vec binary or fastText (by content), else text;
    a text file whose first line is not `<count> <dim>` is GloVe."""
    if path.suffix == ".kv":
        return "kv"
    if path.suffix == ".bin":
        with open(path, "rb") as handle:
            magic = handle.read(4)
        # fastText .bin files start with the magic number 793712314 (little-endian int32)
        return "fasttext_bin" if int.from_bytes(magic, "little") == 793712314 else "word2vec_bin"
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().split()
    return "word2vec" if len(first) == 2 and all(f.isdigit() for f in first) else "glove"


def load_vectors(source: str, format: VectorFormat = "auto") -> KeyedVectors:
    """KeyedVectors from a file, or from gensim's downloader when `source` is not a path."""
    path = Path(source)
    if not path.exists():
        if path.suffix or "/" in source:
            raise CorpusError(f"{path}: word-vector file not found")
        return _download(source)
    format = guess_format(path) if format == "auto" else format
    log.info("loading %s vectors from %s", format, path)
    try:
        if format == "kv":
            return KeyedVectors.load(str(path))
        if format == "fasttext_bin":
            from gensim.models.fasttext import load_facebook_vectors

            return load_facebook_vectors(str(path))
        return KeyedVectors.load_word2vec_format(
            str(path), binary=format == "word2vec_bin", no_header=format == "glove"
        )
    except (ValueError, UnicodeDecodeError, EOFError) as error:
        raise CorpusError(f"{path}: not a readable {format} vector file ({error})") from None


def _download(name: str) -> KeyedVectors:
    import gensim.downloader

    try:
        return gensim.downloader.load(name)
    except Exception as error:  # noqa: BLE001 (the downloader raises many kinds when offline)
        raise CorpusError(
            f"could not fetch the word vectors {name!r} with gensim's downloader ({error}); "
            "offline, download them elsewhere and pass the file instead, e.g. "
            "--model.vectors path/to/glove.6B.300d.txt"
        ) from None


@dataclass(frozen=True)
class Coverage:
    """How much of a vocabulary (and of the corpus's tokens) the vectors cover."""

    types_found: int
    types_total: int
    tokens_found: int
    tokens_total: int
    from_subwords: int  # of types_found: vectors made from character n-grams (fastText)

    @property
    def type_coverage(self) -> float:
        return self.types_found / max(self.types_total, 1)

    @property
    def token_coverage(self) -> float:
        return self.tokens_found / max(self.tokens_total, 1)

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "type_coverage": self.type_coverage,
            "token_coverage": self.token_coverage,
        }

    def __str__(self) -> str:
        return (
            f"{self.types_found}/{self.types_total} vocabulary types "
            f"({self.type_coverage:.1%}), {self.token_coverage:.1%} of corpus tokens; "
            f"{self.from_subwords} from subwords"
        )


def build_embedding_matrix(
    vectors: KeyedVectors,
    vocab: Vocab,
    embed_dim: int | None = None,
    token_counts: Mapping[str, int] | None = None,
    init: Literal["normal", "zeros"] = "normal",
    seed: int = 0,
    source: str = "the word vectors",
) -> tuple[Tensor, Coverage]:
    """A (V, E) matrix: vectors where known (also lower-cased), else `init` scaled like the
    vectors; `<pad>` is zero. Raises, naming `source`, when `embed_dim` disagrees."""
    dim = vectors.vector_size
    if embed_dim is not None and embed_dim != dim:
        raise CorpusError(
            f"{source}: the vectors have dimension {dim} but the model's embed_dim is "
            f"{embed_dim}; set --model.network.embed_dim {dim}"
        )
    rng = np.random.default_rng(seed)
    scale = float(np.std(vectors.vectors)) if len(vectors.vectors) else 0.1
    matrix = (
        rng.normal(0.0, scale, (len(vocab), dim))
        if init == "normal"
        else np.zeros((len(vocab), dim))
    ).astype(np.float32)
    matrix[vocab.pad_id] = 0.0
    has_subwords = (
        hasattr(vectors, "buckets_word") or type(vectors).__name__ == "FastTextKeyedVectors"
    )
    counts = token_counts or {}
    found = subwords = tokens_found = tokens_total = 0
    for index, token in enumerate(vocab.itos):
        if token in SPECIALS:
            continue
        count = counts.get(token, 0)
        tokens_total += count
        key = token if token in vectors.key_to_index else token.lower()
        if key in vectors.key_to_index:
            matrix[index] = vectors[key]
        elif has_subwords:
            matrix[index] = vectors[token]
            subwords += 1
        else:
            continue
        found += 1
        tokens_found += count
    coverage = Coverage(found, len(vocab) - len(SPECIALS), tokens_found, tokens_total, subwords)
    return torch.from_numpy(matrix), coverage


def train_vectors(
    documents: Iterable[Sequence[str]],
    model: Literal["word2vec", "fasttext"] = "word2vec",
    dim: int = 100,
    window: int = 5,
    min_count: int = 2,
    epochs: int = 5,
    workers: int = 2,
    seed: int = 0,
) -> KeyedVectors:
    """Trains Word2Vec (skip-gram) or FastText with gensim on tokenised documents.

    Args:
        documents: token lists.
        model: "word2vec", or "fasttext" (adds character n-gram vectors for unknown words).
        dim: vector size.
        window: context window on each side.
        min_count: ignore words rarer than this.
        epochs: passes over the documents.
        workers: training threads.
        seed: random seed (exact repeats also need workers=1).
    """
    from gensim.models import FastText, Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec
    from tqdm.auto import tqdm

    sentences = [list(doc) for doc in documents]

    class _Progress(CallbackAny2Vec):
        def __init__(self) -> None:
            self.bar = tqdm(total=epochs, desc=f"training {model}", unit="epoch")

        def on_epoch_end(self, trained) -> None:  # noqa: ANN001
            self.bar.update()

        def on_train_end(self, trained) -> None:  # noqa: ANN001
            self.bar.close()

    model_class = Word2Vec if model == "word2vec" else FastText
    trained = model_class(
        sentences=sentences,
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=1,
        epochs=epochs,
        workers=workers,
        seed=seed,
        callbacks=[_Progress()],
    )
    return trained.wv
