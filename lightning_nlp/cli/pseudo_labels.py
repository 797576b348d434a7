"""Pseudo-labels for self-training: a teacher fitted on the labelled sample labels the corpus's
unlabelled documents, and the ones it is most sure of become extra training documents for the
student (the ULMFiT classifier), as MultiFiT (Eisenschlos et al. 2019) trains its classifier on
a zero-shot teacher's labels. The student reads them with `--data.pseudo_labels FILE`.

Two teachers (`TEACHERS`):
- `nb_lr`, the linear baseline on the sample's uni+bigrams: with 100 IMDb labels it is right on
  71% of the validation reviews (mean of three samples), and on 88% of the fifth it is most sure
  of; with 1,000, on 86% and 99% (docs/results.md, "Self-training").
- `nb_lr_doc2vec`, NB-LR's class probabilities averaged with those of a logistic regression on
  PV-DBOW document vectors (`weights.doc_vectors`) trained on the sample's and the unlabelled
  documents' text. The vectors carry what the unlabelled text says about words the sample never
  shows; with 100 IMDb labels this teacher is right on 79.7% of the validation reviews (three
  samples; 78.3% and 95% of its surest fifth with the validation text among the vectors'),
  where NB-LR is right on 70.6% (docs/results.md, "A better teacher").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from lightning_nlp.cli.baselines import MAX_ITER, class_probabilities, fit_linear_baseline
from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.text.io import CorpusError, atomic_write_text
from lightning_nlp.weights.doc_vectors import DocVectors

log = logging.getLogger(__name__)


Teacher = Literal["nb_lr", "nb_lr_doc2vec"]
TEACHERS: tuple[Teacher, ...] = ("nb_lr", "nb_lr_doc2vec")
# PV-DBOW's settings, chosen on IMDb's validation reviews with 100 labels (docs/results.md,
# "A better teacher"); a corpus of a few thousand short documents may want more epochs
DOC2VEC = {"dim": 100, "epochs": 20, "sample": 1e-4}
VECTOR_C = 0.1  # the logistic regression on the standardised vectors


@dataclass(frozen=True)
class PseudoLabels:
    path: Path
    docs: int  # documents written
    per_label: dict[str, int]
    unlabeled: int  # unlabelled documents the teacher read
    tokens: list[list[str]]  # the documents written, tokenised (for a self-trained baseline)
    labels: list[str]  # their pseudo-labels
    teacher: FittedTeacher
    teacher_valid_acc: float | None  # the teacher's accuracy on the validation split


def fit_vector_lr(vectors: np.ndarray, labels: np.ndarray) -> Pipeline:
    """A logistic regression on (N, dim) document vectors, standardised so that its penalty
    (`VECTOR_C`, chosen on IMDb validation) means the same whatever the vectors' scale:
    unscaled, small vectors give probabilities near 1/2, and NB-LR's would decide every
    average."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=VECTOR_C, max_iter=MAX_ITER))
    return model.fit(vectors, labels)


class FittedTeacher:
    """A teacher (one of `TEACHERS`) fitted on labelled documents, with the unlabelled documents
    it is to label known in advance (the document vectors are trained on their text). It
    answers for them at once (`predicted`, `sure`) and keeps no token list.

    `nb_lr` answers as NB-LR does (its decision scores, `confidence` their margin);
    `nb_lr_doc2vec` answers from the average of the two models' probabilities. Inferred
    vectors (`answer` on new documents) and gensim's 2 training threads make the doc2vec
    teacher's answers vary a little between runs.

    Args:
        name: "nb_lr" or "nb_lr_doc2vec" (see the module docstring).
        docs, labels: the labelled sample, N token lists and (N,) label names.
        unlabeled: the documents to label; their text trains the document vectors.
        doc2vec: `DocVectors` options over `DOC2VEC`'s.
    """

    def __init__(self, name: str, docs: Sequence[Sequence[str]], labels: np.ndarray,
                 unlabeled: Sequence[Sequence[str]], doc2vec: dict[str, Any] | None = None) -> None:  # fmt: skip
        if name not in TEACHERS:
            raise ValueError(f"unknown teacher {name!r}; choose from {TEACHERS}")
        start = time.perf_counter()
        docs, unlabeled = list(docs), list(unlabeled)
        self.name = name
        self.nb_lr = fit_linear_baseline("nb_lr", docs, labels)
        self.classes = self.nb_lr.classes_  # (C,) label names, sorted
        self.doc_vectors: DocVectors | None = None
        unlabeled_vectors = None
        if name == "nb_lr_doc2vec":
            self.doc_vectors = DocVectors([*docs, *unlabeled], **{**DOC2VEC, **(doc2vec or {})})
            vectors = self.doc_vectors.vectors  # (N + M, dim), the sample's first
            self.vector_lr = fit_vector_lr(vectors[: len(docs)], labels)
            if not np.array_equal(self.vector_lr.classes_, self.classes):
                raise ValueError("the teacher's two models disagree on the classes")
            unlabeled_vectors = vectors[len(docs) :]  # (M, dim), trained with the text
        self.predicted, self.sure = self._answer(unlabeled, unlabeled_vectors)  # (M,), (M,)
        self.seconds = time.perf_counter() - start  # fitting, and labelling `unlabeled`

    def answer(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(M,) labels and (M,) how sure the teacher is of each, for new documents (their
        vectors inferred)."""
        return self._answer(list(docs), None)

    def _answer(
        self, docs: list[Sequence[str]], vectors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.doc_vectors is None:  # NB-LR's own answers and margins
            return np.asarray(self.nb_lr.predict(docs)), confidence(
                self.nb_lr.decision_function(docs)
            )
        if vectors is None:
            vectors = self.doc_vectors.infer(docs)
        probabilities = class_probabilities(self.nb_lr, docs)  # (M, C)
        probabilities = (probabilities + self.vector_lr.predict_proba(vectors)) / 2
        return self.classes[probabilities.argmax(axis=1)], confidence(probabilities)


def confidence(scores: np.ndarray) -> np.ndarray:
    """How sure a model is of its answer: |score| of a binary model's (N,) scores, the margin
    between the two highest of (N, C) scores or class probabilities."""
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
    datamodule: ClassificationDataModule, path: Path, docs: int, teacher: str = "nb_lr"
) -> PseudoLabels:
    """Fits `teacher` (one of `TEACHERS`) on the datamodule's training split (its `train_size`
    sample), labels the corpus's unlabelled documents, and writes those it is most sure of,
    `docs // labels` per training label (see `most_confident`), to `path` as JSON lines of
    `{"text", "label"}`. The teacher's validation accuracy is logged and returned."""
    names = datamodule.label_names
    train_labels = np.asarray([names[i] for i in datamodule.split("train").labels])
    texts, tokens = datamodule.unlabeled_tokens()
    if not tokens:
        raise CorpusError(f"{datamodule.data_dir}: no unlabelled document to pseudo-label")
    model = FittedTeacher(teacher, datamodule.split_tokens("train"), train_labels, tokens)
    predicted, sure = model.predicted, model.sure  # (N,), (N,)
    chosen = most_confident(predicted, sure, docs, names)
    lines = [json.dumps({"text": texts[i], "label": str(predicted[i])}) for i in chosen]
    atomic_write_text(path, "\n".join(lines) + "\n")
    counts = {label: int((predicted[chosen] == label).sum()) for label in names}
    chosen_tokens = [tokens[i] for i in chosen]
    chosen_labels = [str(predicted[i]) for i in chosen]
    valid_acc = None
    valid = datamodule.split_tokens("valid")
    if valid:
        valid_labels = np.asarray([names[i] for i in datamodule.split("valid").labels])
        guesses, _ = model.answer(valid)
        valid_acc = float((guesses == valid_labels).mean())
        log.info("teacher %s: %.1f%% on the %d validation documents", teacher,
                 100 * valid_acc, len(valid))  # fmt: skip
    return PseudoLabels(path, len(chosen), counts, len(texts), chosen_tokens, chosen_labels,
                        model, valid_acc)  # fmt: skip
