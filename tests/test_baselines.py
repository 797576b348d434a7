"""Linear n-gram baselines: what they learn, what they cannot, and the `baseline` command."""

import json
import random
import sys

import numpy as np
import pytest

from lightning_nlp.cli import main
from lightning_nlp.cli.baselines import (
    LINEAR_METHODS,
    NBLogisticRegression,
    evaluate_linear_baseline,
    fit_linear_baseline,
    positive_probability,
    uni_bigrams,
)
from tests.test_cli import ROOT

EMBEDDED = str(ROOT / "configs/classify/embedded_lstm.yaml")
FILLER = ["the", "film", "was", "a", "plot", "and", "it", "so"]
CUES = {"pos": ["good", "great"], "neg": ["bad", "awful"], "mixed": ["meh", "fine"]}


def _docs(n: int, classes: tuple[str, ...], seed: int = 0) -> tuple[list[list[str]], np.ndarray]:
    """`n` documents of filler words and one cue word of their class, labels cycling."""
    rng = random.Random(seed)
    docs, labels = [], []
    for i in range(n):
        label = classes[i % len(classes)]
        doc = rng.choices(FILLER, k=rng.randint(2, 6)) + [rng.choice(CUES[label])]
        rng.shuffle(doc)
        docs.append(doc)
        labels.append(label)
    return docs, np.asarray(labels)


def test_uni_bigrams_keeps_tokens_as_given():
    assert uni_bigrams(["Not", "good", "!"]) == ["Not", "good", "!", "Not good", "good !"]
    assert uni_bigrams([]) == []


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_four_training_documents_separate_a_separable_corpus(method):
    train = [["the", "film", "was", "good"], ["a", "great", "plot"]]
    train += [["the", "film", "was", "bad"], ["an", "awful", "plot"]]
    test = [["good", "film"], ["the", "plot", "was", "great"], ["great"]]
    test += [["bad"], ["awful", "film", "and", "plot"], ["it", "was", "bad", "so"]]
    result = evaluate_linear_baseline(
        method, train, np.array([1, 1, 0, 0]), test, np.array([1, 1, 1, 0, 0, 0])
    )
    assert result["acc"] == 1.0
    assert (result["method"], result["train_docs"], result["test_docs"]) == (method, 4, 6)
    assert result["seconds"] >= 0


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_positive_probability_is_the_named_class_whatever_the_label_order(method):
    train, labels = _docs(200, ("pos", "neg"), seed=1)
    model = fit_linear_baseline(method, train, labels)  # classes_ ["neg", "pos"]: pos second
    docs = [["the", "film", "was", "great"], ["awful", "plot"]]
    pos, neg = (positive_probability(model, docs, label) for label in ("pos", "neg"))
    assert pos[0] > 0.5 > pos[1] and np.allclose(pos + neg, 1.0)
    with pytest.raises(ValueError, match="class 'mixed'"):
        positive_probability(model, docs, "mixed")


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_shuffled_training_labels_give_chance(method):
    train, labels = _docs(400, ("pos", "neg"), seed=1)
    test, truth = _docs(400, ("pos", "neg"), seed=2)
    learned = evaluate_linear_baseline(method, train, labels, test, truth)
    shuffled = np.random.default_rng(0).permutation(labels)
    chance = evaluate_linear_baseline(method, train, shuffled, test, truth)
    assert learned["acc"] == 1.0
    assert abs(chance["acc"] - 0.5) < 0.15


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_three_classes(method):
    classes = ("pos", "neg", "mixed")
    train, labels = _docs(300, classes, seed=3)
    test, truth = _docs(90, classes, seed=4)
    model = fit_linear_baseline(method, train, labels)
    assert (model.predict(test) == truth).all()


def test_nb_lr_is_one_vs_rest_with_three_classes():
    classes = ("pos", "neg", "mixed")
    train, labels = _docs(60, classes, seed=3)
    model = fit_linear_baseline("nb_lr", train, labels)
    nb = model.named_steps["model"]
    assert len(nb.models_) == 3 and nb.ratios_.shape[0] == 3
    scores = model.decision_function(_docs(9, classes, seed=5)[0])
    assert scores.shape == (9, 3)
    assert list(nb.classes_[scores.argmax(axis=1)]) == list(model.predict(_docs(9, classes, 5)[0]))


def test_nb_ratio_is_the_smoothed_log_count_ratio_of_binarised_features():
    counts = np.array([[3, 0], [1, 1], [0, 5]])  # counts above 1 count once
    nb = NBLogisticRegression(C=100.0, alpha=1.0).fit(counts, np.array([1, 1, 0]))
    p, q = 1 + np.array([2, 1]), 1 + np.array([0, 1])  # documents of class 1 / 0 with each
    expected = np.log((p / p.sum()) / (q / q.sum()))
    assert len(nb.models_) == 1
    np.testing.assert_allclose(nb.ratios_[0], expected)
    assert nb.predict(np.array([[7, 0], [0, 1]])).tolist() == [1, 0]


def test_one_class_and_unknown_methods_are_refused():
    with pytest.raises(ValueError, match="at least two classes"):
        fit_linear_baseline("nb_lr", [["a"], ["b"]], np.array([0, 0]))
    with pytest.raises(ValueError, match="unknown linear baseline"):
        fit_linear_baseline("svm", [["a"], ["b"]], np.array([0, 1]))  # type: ignore[arg-type]


@pytest.fixture
def embedded_args(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    return ["--config", EMBEDDED, "--data.num_docs", "600", "--data.cache_dir", str(tmp_path)]


def test_baseline_command_on_a_label_budget(embedded_args, capsys):
    from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule

    main(["baseline", *embedded_args, "--method", "nb_lr", "--data.train_size", "100"])
    out = capsys.readouterr().out.strip().splitlines()
    assert "precision" in "\n".join(out[:-1])
    result = json.loads(out[-1])
    assert result["method"] == "nb_lr"
    assert (result["train_docs"], result["test_docs"]) == (100, 60)
    # the same baseline computed here on the raw tokens of the same 100 documents
    dm = EmbeddedClassificationDataModule(num_docs=600, cache_dir=embedded_args[-1], train_size=100)
    expected = evaluate_linear_baseline(
        "nb_lr",
        dm.split_tokens("train"),
        dm.split("train").labels,
        dm.split_tokens("test"),
        dm.split("test").labels,
    )
    assert result["test/acc"] == pytest.approx(expected["acc"], abs=1e-12)


def test_baseline_command_defaults_to_nb_lr_and_mean_vectors_needs_vectors(embedded_args, capsys):
    main(["baseline", *embedded_args, "--data.train_size", "40", "--C", "2.5"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["method"], result["C"], result["train_docs"]) == ("nb_lr", 2.5, 40)
    with pytest.raises(SystemExit) as stopped:
        main(["baseline", *embedded_args, "--method", "mean_vectors"])
    assert stopped.value.code == 2
    assert "--method mean_vectors needs --vectors" in capsys.readouterr().err
