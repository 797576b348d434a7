"""Vocabulary: token <-> id with special tokens at fixed indices, saved as JSON."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from lightning_nlp.data.text.io import CorpusError, atomic_write_text

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocab:
    """Maps tokens to ids; `<pad>`=0, `<unk>`=1, `<bos>`=2, `<eos>`=3 always.

    Args:
        itos: the tokens in id order; must start with the four special tokens.
    """

    pad_id, unk_id, bos_id, eos_id = range(4)

    def __init__(self, itos: Sequence[str]) -> None:
        if tuple(itos[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {SPECIALS}, got {tuple(itos[:4])}")
        self.itos = list(itos)
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            duplicates = [t for t, n in Counter(self.itos).items() if n > 1]
            raise ValueError(f"duplicate tokens in vocabulary: {duplicates[:5]}")

    @classmethod
    def build(
        cls,
        counts: Counter[str] | Iterable[Sequence[str]],
        max_size: int | None = None,
        min_freq: int = 1,
        extra_specials: Sequence[str] = (),
    ) -> Vocab:
        """Builds from token counts (or tokenised documents).

        Tokens are ordered by decreasing count, ties broken alphabetically, so the result
        does not depend on document order. `max_size` counts every entry, specials included.
        """
        if not isinstance(counts, Counter):
            counts = Counter(token for doc in counts for token in doc)
        head = list(SPECIALS) + [t for t in extra_specials if t not in SPECIALS]
        reserved = set(head)
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_freq and t not in reserved),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            if max_size < len(head):
                raise ValueError(f"max_size={max_size} is smaller than the {len(head)} specials")
            ranked = ranked[: max_size - len(head)]
        return cls(head + ranked)

    def __len__(self) -> int:
        return len(self.itos)

    def extended(self, words: Iterable[str]) -> Vocab:
        """This vocabulary, then the `words` it lacks (sorted, once each): its ids unchanged,
        the new words after them. For character-level embedders (ELMo), which can read a word
        that has no trained row by its spelling."""
        new = sorted(set(words).difference(self.stoi))
        return Vocab(self.itos + new) if new else self

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of `tokens`; unknown tokens map to `<unk>`."""
        stoi, unk = self.stoi, self.unk_id
        return [stoi.get(token, unk) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    @property
    def fingerprint(self) -> str:
        """Short hash of the token list: equal fingerprints mean identical id assignments."""
        return hashlib.sha256("\n".join(self.itos).encode("utf-8")).hexdigest()[:16]

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps({"itos": self.itos}, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(data["itos"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CorpusError(f"{path}: not a vocabulary file ({error})") from None
