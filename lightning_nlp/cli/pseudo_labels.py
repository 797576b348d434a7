"""Pseudo-labels for self-training: a teacher fitted on the labelled sample labels the corpus's
unlabelled documents, and the ones it is most sure of become extra training documents for the
student (the ULMFiT classifier), as MultiFiT (Eisenschlos et al. 2019) trains its classifier on
a zero-shot teacher's labels. The student reads them with `--data.pseudo_labels FILE`.

The teacher is a linear baseline (NB-LR by default): with 100 IMDb labels it is right on 73%
of the validation reviews, and on about 90% of the fifth it is most sure of; with 1,000, on 86%
and 99% (docs/results.md, "Self-training").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lightning_nlp.cli.baselines import LinearMethod, fit_linear_baseline
from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.text.io import CorpusError, atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PseudoLabels:
    path: Path
    docs: int  # documents written
    per_label: dict[str, int]
    unlabeled: int  # unlabelled documents the teacher read
    tokens: list[list[str]]  # the documents written, tokenised (for a self-trained baseline)
    labels: list[str]  # their pseudo-labels


def confidence(scores: np.ndarray) -> np.ndarray:
    """How sure a linear model is of its answer: |score| of a binary model's (N,) scores, the
    margin between the two highest of a multi-class model's (N, C) scores."""
    if scores.ndim == 1:
        return np.abs(scores)
    top = np.sort(scores, axis=1)
    return top[:, -1] - top[:, -2]


def most_confident(
    predicted: np.ndarray, sure: np.ndarray, docs: int, labels: Sequence[str]
) -> np.ndarray:
    """Indices of the documents the teacher is most sure of, `docs // len(labels)` for each
    training label (a teacher's skew would otherwise become the student's), each label's
    most sure first. A label the teacher predicts for fewer documents gives what there is
    (with a warning)."""
    per_label = docs // len(labels)
    if per_label == 0:
        raise ValueError(f"pseudo_docs {docs}: fewer than one document for each of the "
                         f"{len(labels)} labels")  # fmt: skip
    chosen = []
    for label in labels:
        index = np.flatnonzero(predicted == label)
        if len(index) < per_label:
            log.warning("the teacher labels only %d unlabelled documents %r (of %d wanted)",
                        len(index), label, per_label)  # fmt: skip
        chosen.append(index[np.argsort(-sure[index], kind="stable")][:per_label])
    return np.concatenate(chosen)


def write_pseudo_labels(
    datamodule: ClassificationDataModule, path: Path, docs: int, teacher: LinearMethod = "nb_lr"
) -> PseudoLabels:
    """Fits `teacher` on the datamodule's training split (its `train_size` sample), labels the
    corpus's unlabelled documents, and writes those it is most sure of, `docs // labels` per
    training label (see `most_confident`), to `path` as JSON lines of `{"text", "label"}`."""
    names = datamodule.label_names
    train_labels = np.asarray([names[i] for i in datamodule.split("train").labels])
    model = fit_linear_baseline(teacher, datamodule.split_tokens("train"), train_labels)
    texts, tokens = datamodule.unlabeled_tokens()
    if not tokens:
        raise CorpusError(f"{datamodule.data_dir}: no unlabelled document to pseudo-label")
    predicted = np.asarray(model.predict(tokens))
    sure = confidence(model.decision_function(tokens))
    chosen = most_confident(predicted, sure, docs, names)
    lines = [json.dumps({"text": texts[i], "label": str(predicted[i])}) for i in chosen]
    atomic_write_text(path, "\n".join(lines) + "\n")
    counts = {label: int((predicted[chosen] == label).sum()) for label in names}
    chosen_tokens = [tokens[i] for i in chosen]
    chosen_labels = [str(predicted[i]) for i in chosen]
    return PseudoLabels(path, len(chosen), counts, len(texts), chosen_tokens, chosen_labels)
