"""Labelled documents as read from a corpus, a seeded stratified split, and nested
stratified samples (label budgets)."""

from __future__ import annotations

from collections.abc import Sequence
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

    def concat(self, other: LabeledTexts) -> LabeledTexts:
        """These documents followed by `other`'s."""
        return LabeledTexts(
            self.texts + other.texts, self.labels + other.labels, self.origins + other.origins
        )

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


def class_allocation(class_sizes: Sequence[int], size: int) -> np.ndarray:
    """(K,) how many of each class a stratified sample of `size` documents takes.

    Each class gets its exact share `size * n_c / n` rounded down or up (so the counts are
    within 1 of the class proportions and sum to `size`), and the counts never decrease as
    `size` grows, which nested samples need. Largest-remainder rounding has the first property
    but not the second (the Alabama paradox), so this is Balinski and Young's quota method:
    seats are handed out one at a time, each to the class with the highest n_c / (a_c + 1)
    among those still below their upper quota. Ties go to the earlier class.
    """
    sizes = np.asarray(class_sizes, dtype=np.int64)
    total = int(sizes.sum())
    if not 0 <= size <= total:
        raise ValueError(f"a sample of {size} from {total} documents")
    counts = np.zeros(len(sizes), dtype=np.int64)
    for seats in range(1, size + 1):
        eligible = counts * total < seats * sizes  # below the upper quota at this size
        priority = np.where(eligible, sizes / (counts + 1), -1.0)
        counts[int(priority.argmax())] += 1
    return counts


def nested_stratified_sample(labels: Sequence[str], size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a stratified sample of `size` documents, nested across sizes.

    Each label's documents are put in a seeded random order (which does not depend on `size`)
    and the sample takes a prefix of each order, as long as `class_allocation` says. So for the
    same labels and seed the sample of 100 lies inside the sample of 500, and a few-label
    learning curve adds labels instead of drawing new ones; another seed draws other samples.
    """
    rng = np.random.default_rng(seed)
    labels_array = np.asarray(labels)
    names = sorted(set(labels))
    orders = [rng.permutation(np.flatnonzero(labels_array == name)) for name in names]
    counts = class_allocation([len(order) for order in orders], size)
    chosen = [order[:count] for order, count in zip(orders, counts)]
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
