"""Linear bag-of-n-gram baselines on tokenised documents (scikit-learn).

The bar a neural classifier has to clear: logistic regression on unigrams and bigrams, either
TF-IDF weighted (`tfidf_lr`) or NB-weighted (`nb_lr`, the NBSVM idea of Wang & Manning 2012,
"Baselines and Bigrams", section 2.1, with a logistic loss in place of the SVM's hinge loss).
Documents come in as lists of token strings, already tokenised, so the baseline reads exactly
the words the neural models read; no lower-casing or re-tokenising happens here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

LinearMethod = Literal["tfidf_lr", "nb_lr"]
LINEAR_METHODS: tuple[LinearMethod, ...] = ("tfidf_lr", "nb_lr")
# Inverse regularisation strengths. TF-IDF rows have unit L2 norm, so their weights need a weak
# penalty (C=10 is a common good setting for sentiment). NB-scaled binary features are large
# (|r| of a telling word is several nats, and a review has hundreds of n-grams), so C=1.
DEFAULT_C: dict[str, float] = {"tfidf_lr": 10.0, "nb_lr": 1.0}
MAX_ITER = 5000


class Classifier(Protocol):
    """What `fit_linear_baseline` returns: a fitted model that labels tokenised documents."""

    def predict(self, docs: Sequence[Sequence[str]]) -> np.ndarray: ...

    def decision_function(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """(N,) scores of a binary model (positive: its second class), (N, C) of others."""
        ...


def uni_bigrams(doc: Sequence[str]) -> list[str]:
    """A document's unigrams and its bigrams (the two tokens joined by a space)."""
    tokens = list(doc)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression on binary features scaled by their naive-Bayes log-count ratio.

    For a class c against the rest, r = log((p / |p|_1) / (q / |q|_1)), where p (q) is `alpha`
    plus the number of documents of c (of the other classes) in which each feature occurs;
    the model is a binary logistic regression on x ∘ r, x the binarised features (Wang &
    Manning 2012, section 2.1). With two classes there is one such model, for the second class;
    with more, one per class (one-vs-rest), and the prediction is the class whose model gives
    the highest decision score.

    Args:
        C: inverse L2 regularisation strength of each logistic regression.
        alpha: additive smoothing of the feature counts.
        max_iter: iteration cap of the solver.
    """

    def __init__(self, C: float = 1.0, alpha: float = 1.0, max_iter: int = MAX_ITER) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(self, X: Any, y: np.ndarray) -> NBLogisticRegression:
        """Fits one ratio vector and one binary model per class (one in all for two classes).

        Args:
            X: (N, F) feature counts, dense or sparse; only whether each is non-zero counts.
            y: (N,) labels.
        """
        features = _binary(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"nb_lr needs at least two classes; got {self.classes_.tolist()}")
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_ = np.stack([self._log_count_ratio(features, y == c) for c in positives])
        self.models_ = []
        for ratio, c in zip(self.ratios_, positives):
            model = LogisticRegression(C=self.C, solver="liblinear", max_iter=self.max_iter)
            self.models_.append(model.fit(features.multiply(ratio).tocsr(), y == c))
        return self

    def _log_count_ratio(self, features: sparse.csr_matrix, positive: np.ndarray) -> np.ndarray:
        """(F,) r = log((p / |p|_1) / (q / |q|_1)) of the `positive` documents against the rest."""
        p = self.alpha + np.asarray(features[positive].sum(axis=0)).ravel()  # (F,)
        q = self.alpha + np.asarray(features[~positive].sum(axis=0)).ravel()  # (F,)
        return np.log(p / p.sum()) - np.log(q / q.sum())

    def decision_function(self, X: Any) -> np.ndarray:
        """(N,) score of the second class with two classes, else (N, K) one score per class."""
        features = _binary(X)
        scores = np.stack(
            [
                model.decision_function(features.multiply(ratio).tocsr())
                for ratio, model in zip(self.ratios_, self.models_)
            ],
            axis=1,
        )  # (N, 1) or (N, K)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """(N,) the predicted class of each row."""
        scores = self.decision_function(X)
        if len(self.classes_) == 2:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]


def _binary(X: Any) -> sparse.csr_matrix:
    """`X` as a CSR matrix of 0/1 floats: whether each feature occurs."""
    features = sparse.csr_matrix(X, dtype=np.float64, copy=True)
    features.data = (features.data != 0).astype(np.float64)
    features.eliminate_zeros()
    return features


def make_linear_baseline(method: LinearMethod, C: float | None = None) -> Pipeline:
    """An unfitted pipeline from tokenised documents to labels.

    Args:
        method: "tfidf_lr" (TF-IDF of unigrams and bigrams with sublinear tf, then a logistic
            regression, multinomial for more than two classes) or "nb_lr" (binary unigram and
            bigram features, NB-weighted, then a logistic regression; see
            `NBLogisticRegression`).
        C: inverse regularisation strength; default `DEFAULT_C[method]`.
    """
    if method not in LINEAR_METHODS:
        raise ValueError(f"unknown linear baseline {method!r}; choose from {LINEAR_METHODS}")
    C = DEFAULT_C[method] if C is None else C
    if method == "tfidf_lr":
        # min_df=1: a 100-document label budget leaves few n-grams that occur twice
        features = TfidfVectorizer(analyzer=uni_bigrams, sublinear_tf=True, min_df=1)
        model = LogisticRegression(C=C, max_iter=MAX_ITER)
    else:
        features = CountVectorizer(analyzer=uni_bigrams, binary=True, min_df=1)
        model = NBLogisticRegression(C=C)
    return Pipeline([("features", features), ("model", model)])


def fit_linear_baseline(
    method: LinearMethod,
    docs: Sequence[Sequence[str]],
    labels: np.ndarray,
    C: float | None = None,
) -> Classifier:
    """A linear baseline fitted to tokenised documents and their labels.

    Args:
        method: one of `LINEAR_METHODS` (see `make_linear_baseline`).
        docs: N documents, each a sequence of token strings.
        labels: (N,) class labels (ids or names); at least two distinct ones.
        C: inverse regularisation strength; default `DEFAULT_C[method]`.

    Returns:
        The fitted pipeline; its `predict(docs)` gives an (M,) array of labels.
    """
    return make_linear_baseline(method, C).fit(list(docs), np.asarray(labels))


def class_probabilities(model: Classifier, docs: Sequence[Sequence[str]]) -> np.ndarray:
    """(N, C) a fitted baseline's probability of each of its `classes_`: the logistic
    regression's own, or for NB-LR the logistic of its decision scores (the second class's
    with two classes; one-vs-rest scores normalised to sum to one with more)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(list(docs))
    scores = expit(model.decision_function(list(docs)))  # (N,) or (N, C)
    if scores.ndim == 1:
        return np.stack([1 - scores, scores], axis=1)
    return scores / scores.sum(axis=1, keepdims=True)


def positive_probability(model: Any, docs: Sequence[Sequence[str]], positive: Any) -> np.ndarray:
    """(N,) a fitted two-class baseline's probability that each document is `positive` (one of
    its two classes; see `class_probabilities`)."""
    classes = list(model.classes_)
    if len(classes) != 2 or positive not in classes:
        raise ValueError(f"a two-class model with the class {positive!r}; it has {classes}")
    return class_probabilities(model, docs)[:, classes.index(positive)]


def evaluate_linear_baseline(
    method: LinearMethod,
    train_docs: Sequence[Sequence[str]],
    train_labels: np.ndarray,
    test_docs: Sequence[Sequence[str]],
    test_labels: np.ndarray,
    C: float | None = None,
) -> dict[str, Any]:
    """Fits on the training documents and scores on the test documents.

    Returns:
        {"method", "C", "acc" (test accuracy), "train_docs", "test_docs", "seconds" (fit and
        prediction), "predicted" ((M,) test predictions)}.
    """
    start = time.perf_counter()
    model = fit_linear_baseline(method, train_docs, train_labels, C)
    predicted = model.predict(list(test_docs))
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "C": DEFAULT_C[method] if C is None else C,
        "acc": float(np.mean(predicted == np.asarray(test_labels))),
        "train_docs": len(train_docs),
        "test_docs": len(test_docs),
        "seconds": seconds,
        "predicted": predicted,
    }
