"""Labelled documents as read from a corpus, and a seeded stratified split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LabeledTexts:
    """Texts with their labels and where each came from ("file:line"), for error messages."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)

    def add(self, text: str, label: str, origin: str) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.origins.append(origin)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: list[int] | np.ndarray) -> LabeledTexts:
        return LabeledTexts(
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            [self.origins[i] for i in indices],
        )


def stratified_split(
    labels: list[str], fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held_out): about `fraction` of each label held out, at least one where a
    label has two or more examples. The same labels and seed give the same split."""
    rng = np.random.default_rng(seed)
    labels_array = np.asarray(labels)
    held_out = []
    for label in sorted(set(labels)):
        members = np.flatnonzero(labels_array == label)
        rng.shuffle(members)
        count = int(round(fraction * len(members)))
        if len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        held_out.append(members[:count])
    held = np.sort(np.concatenate(held_out)) if held_out else np.zeros(0, dtype=np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), held)
    return kept, held
