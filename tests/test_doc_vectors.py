"""PV-DBOW document vectors and the self-training teacher built on them: what the unlabelled
text teaches about words the labelled sample never contains."""

import numpy as np
import pytest

from lightning_nlp.cli.pseudo_labels import FittedTeacher
from lightning_nlp.weights.doc_vectors import DocVectors

POOLS = {label: [f"{label[:3]}{i}" for i in range(30)] for label in ("negative", "positive")}
FILLER = [f"w{i}" for i in range(200)]  # words that say nothing of the verdict


def _doc(rng: np.random.Generator, words: list[str]) -> list[str]:
    """A review of 40 words: 6 of its polarity's `words`, the rest filler, shuffled."""
    tokens = [*rng.choice(words, 6), *rng.choice(FILLER, 34)]
    return [str(t) for t in rng.permutation(tokens)]


def _corpus(seed: int = 0):
    """20 labelled reviews that use the first 10 words of each polarity; 1,000 unlabelled ones
    that use all 30; 200 unlabelled ones that use only the 20 the sample never shows (their
    labels returned for scoring)."""
    rng = np.random.default_rng(seed)
    labels = np.array(["negative", "positive"] * 10)
    sample = [_doc(rng, POOLS[label][:10]) for label in labels]
    mixed = [_doc(rng, POOLS[label]) for label in rng.choice(labels, 1000)]
    hidden_labels = np.array(["positive", "negative"] * 100)
    hidden = [_doc(rng, POOLS[label][10:]) for label in hidden_labels]
    return sample, labels, mixed + hidden, hidden_labels


def test_doc_vectors_are_aligned_with_their_documents_and_inferred_for_new_ones():
    sample, _, unlabeled, _ = _corpus()
    docs = sample + unlabeled
    vectors = DocVectors(docs, dim=16, epochs=20, sample=0, workers=1)
    assert vectors.vectors.shape == (len(docs), 16)
    # a document's inferred vector is nearer its own trained vector than most others are
    inferred = vectors.infer(docs[:20])  # (20, 16)
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    similarity = inferred @ unit.T / np.linalg.norm(inferred, axis=1, keepdims=True)  # (20, N)
    rank = (similarity > similarity[np.arange(20), np.arange(20)][:, None]).sum(axis=1)
    assert np.median(rank) < 0.05 * len(docs), rank
    assert vectors.infer([docs[0], ["an", "unknown", "film"]]).shape == (2, 16)
    assert vectors.infer([]).shape == (0, 16)
    with pytest.raises(ValueError, match="at least one document"):
        DocVectors([])


def test_the_doc2vec_teacher_labels_reviews_whose_words_the_sample_never_shows():
    sample, labels, unlabeled, hidden_labels = _corpus()
    hidden = slice(len(unlabeled) - len(hidden_labels), None)
    accuracy = {}
    for name in ("nb_lr", "nb_lr_doc2vec"):
        # a corpus this small (260 words) needs more passes than IMDb's 20 (DOC2VEC)
        options = {"epochs": 60, "workers": 1}
        teacher = FittedTeacher(name, sample, labels, unlabeled, options)
        assert teacher.predicted.shape == teacher.sure.shape == (len(unlabeled),)
        accuracy[name] = (teacher.predicted[hidden] == hidden_labels).mean()
        # a review given anew (its vector inferred) gets the answer its trained vector got
        again, _ = teacher.answer(unlabeled[-20:])
        assert (again == teacher.predicted[-20:]).mean() >= 0.9
    # NB-LR has seen none of these reviews' telling words, only filler: about chance
    assert accuracy["nb_lr"] <= 0.65, accuracy
    # the document vectors learnt from the other reviews which side the unseen words are on
    assert accuracy["nb_lr_doc2vec"] >= 0.9, accuracy
    with pytest.raises(ValueError, match="unknown teacher 'svm'"):
        FittedTeacher("svm", sample, labels, unlabeled)
