"""The embedded default corpus: synthetic reviews written to text files on first use."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.data.stages import SPLITS
from lightning_nlp.data.synthetic import reviews as synthetic_reviews
from lightning_nlp.data.synthetic.reviews import DOMAINS, generate_reviews
from lightning_nlp.data.text.io import atomic_write_text, read_lines
from lightning_nlp.data.text.token_cache import default_cache_dir
from lightning_nlp.data.text.tokenize import TokenizerName

SPLIT_FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}


def generator_key(num_docs: int, seed: int, domains: Sequence[str] | None = None) -> str:
    """Identifies the generated files: the generator's source code, the size, the seed and the
    domains kept. Any change to the generator gives new files instead of reusing stale ones."""
    source = Path(synthetic_reviews.__file__).read_bytes()
    kept = ",".join(sorted(domains)) if domains else "all"
    digest = hashlib.sha256(source + f"|{num_docs}|{seed}|{kept}".encode()).hexdigest()[:12]
    return f"n{num_docs}-s{seed}-{digest}"


def write_embedded_corpus(
    folder: str | Path, num_docs: int = 6000, seed: int = 0, domains: Sequence[str] | None = None
) -> Path:
    """Writes `{split}.txt` (one review a line) and `{split}.labels` (its label) into `folder`:
    the reviews among the first `num_docs` generated whose domain is in `domains` (default all).

    Files already there are kept when `folder/GENERATOR` holds the current `generator_key`
    (the generator is deterministic, so they are the same); otherwise they are rewritten.
    """
    folder = Path(folder)
    key = generator_key(num_docs, seed, domains)
    stamp = folder / "GENERATOR"
    if stamp.is_file() and stamp.read_text().strip() == key:
        return folder
    unknown = set(domains or ()) - set(DOMAINS)
    if unknown:
        raise ValueError(f"unknown domains {sorted(unknown)}; the corpus has {list(DOMAINS)}")
    reviews = [r for r in generate_reviews(num_docs, seed) if not domains or r.domain in domains]
    num_docs = len(reviews)
    start = 0
    for split in SPLITS:
        end = start + round(SPLIT_FRACTIONS[split] * num_docs) if split != "test" else num_docs
        part = reviews[start:end]
        atomic_write_text(folder / f"{split}.txt", "".join(r.text + "\n" for r in part))
        atomic_write_text(folder / f"{split}.labels", "".join(r.label + "\n" for r in part))
        start = end
    atomic_write_text(stamp, key + "\n")  # last: a stamp means the files are complete
    return folder


class _EmbeddedCorpus:
    """Shared constructor: where the synthetic reviews are written and which ones they are.

    Args:
        data_dir: where the generated files go (default: a folder in the cache directory).
        num_docs: number of reviews generated, about 50 tokens each.
        corpus_seed: seed of the review generator.
        domains: keep only the reviews of these domains (film, book, restaurant, hotel,
            gadget); default all.
        tokenizer: tokeniser name.
        **kwargs: as for the data module this is mixed into.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        num_docs: int = 6000,
        corpus_seed: int = 0,
        domains: list[str] | None = None,
        tokenizer: TokenizerName = "nltk",
        **kwargs: Any,
    ) -> None:
        cache = Path(kwargs.get("cache_dir") or default_cache_dir())
        key = generator_key(num_docs, corpus_seed, domains)
        super().__init__(data_dir or str(cache / f"embedded-{key}"), tokenizer=tokenizer, **kwargs)
        self.num_docs = num_docs
        self.corpus_seed = corpus_seed
        self.domains = domains


class EmbeddedLMDataModule(_EmbeddedCorpus, TextFilesLMDataModule):
    """Language modelling on the embedded synthetic reviews; needs no download."""

    def split_file(self, split: str) -> Path:
        write_embedded_corpus(self.data_dir, self.num_docs, self.corpus_seed, self.domains)
        return super().split_file(split)


class EmbeddedClassificationDataModule(_EmbeddedCorpus, ClassificationDataModule):
    """Sentiment classification of the embedded synthetic reviews; needs no download."""

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        write_embedded_corpus(self.data_dir, self.num_docs, self.corpus_seed, self.domains)
        splits = {}
        for split in needed:
            texts = read_lines(self.data_dir / f"{split}.txt")
            labels = read_lines(self.data_dir / f"{split}.labels")
            origins = [f"{self.data_dir / split}.txt:{i}" for i in range(1, len(texts) + 1)]
            splits[split] = LabeledTexts(texts, labels, origins)
        return splits
