"""Self-training: pseudo-labelled documents joining a label budget (`--data.pseudo_labels`), the
unlabelled text they come from, and the teacher's choice of the documents it is most sure of."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lightning_nlp.cli.baselines import fit_linear_baseline
from lightning_nlp.cli.pseudo_labels import confidence, most_confident, write_pseudo_labels
from lightning_nlp.data.classification.trec import TRECDataModule
from lightning_nlp.data.text.io import CorpusError
from tests.data.test_train_size import _trec


def _dm(tmp_path: Path, **options) -> TRECDataModule:
    return TRECDataModule(str(_trec(tmp_path / "trec")), cache_dir=str(tmp_path / "c"), **options)


def _jsonl(path: Path, rows: list[tuple[str, str]]) -> str:
    path.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows))
    return str(path)


def test_pseudo_labelled_documents_join_the_sample_and_nothing_else(tmp_path):
    plain = _dm(tmp_path, train_size=30)
    rows = [("how many pseudo things ?", "NUM"), ("where is pseudo land ?", "LOC")]
    dm = _dm(tmp_path, train_size=30, pseudo_labels=_jsonl(tmp_path / "p.jsonl", rows))
    train = dm.texts("train")
    assert train.texts[:30] == plain.texts("train").texts  # the same sample, then the file's
    assert train.texts[30:] == [t for t, _ in rows] and train.labels[30:] == ["NUM", "LOC"]
    assert train.origins[30:] == [f"{tmp_path / 'p.jsonl'}:1", f"{tmp_path / 'p.jsonl'}:2"]
    assert len(dm.split("train").documents) == 32
    for split in ("valid", "test"):
        assert dm.texts(split).origins == plain.texts(split).origins


def test_a_pseudo_label_outside_the_training_labels_names_its_line(tmp_path):
    rows = [("how many ?", "NUM"), ("what colour ?", "ENTY")]  # ENTY: not a training label
    dm = _dm(tmp_path, train_size=30, pseudo_labels=_jsonl(tmp_path / "p.jsonl", rows))
    with pytest.raises(CorpusError, match=r"p\.jsonl:2: pseudo-label 'ENTY' is not a training"):
        dm.texts("train")
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(CorpusError, match=r"bad\.jsonl:1: bad JSON line"):
        _dm(tmp_path, pseudo_labels=str(tmp_path / "bad.jsonl")).texts("train")


def test_unlabelled_text_is_the_training_text_the_sample_leaves_out(tmp_path):
    whole = _dm(tmp_path).texts("train")
    dm = _dm(tmp_path, train_size=40)
    unlabeled = dm.unlabeled_texts()
    assert len(unlabeled) == len(whole) - 40
    assert sorted(unlabeled + dm.texts("train").texts) == sorted(whole.texts)
    assert not set(unlabeled) & set(dm.texts("valid").texts)
    with pytest.raises(CorpusError, match="no unlabelled text"):
        _dm(tmp_path).unlabeled_texts()


def test_the_teacher_keeps_what_it_is_most_sure_of_balanced_over_labels():
    assert confidence(np.array([-3.0, 0.5, 2.0])).tolist() == [3.0, 0.5, 2.0]
    assert confidence(np.array([[1.0, 4.0, 2.0], [0.0, 0.1, 0.2]])) == pytest.approx([2.0, 0.1])
    predicted = np.array(["a", "a", "a", "a", "b", "b"])
    sure = np.array([0.1, 0.9, 0.5, 0.8, 0.2, 0.3])
    chosen = most_confident(predicted, sure, 4, ["a", "b"])  # two per label, most sure first
    assert chosen.tolist() == [1, 3, 5, 4]
    # a training label the teacher never predicts gets nothing: the others keep their share
    assert most_confident(predicted, sure, 6, ["a", "b", "c"]).tolist() == [1, 3, 5, 4]
    with pytest.raises(ValueError, match="fewer than one document for each of the 3 labels"):
        most_confident(predicted, sure, 2, ["a", "b", "c"])


def test_written_pseudo_labels_are_the_teachers_balanced_answers(tmp_path):
    dm = _dm(tmp_path, train_size=30)
    result = write_pseudo_labels(dm, tmp_path / "pseudo.jsonl", docs=60)
    rows = [json.loads(line) for line in (tmp_path / "pseudo.jsonl").read_text().splitlines()]
    assert result.docs == len(rows) == 60 and result.unlabeled == len(dm.unlabeled_texts())
    assert Counter(r["label"] for r in rows) == {"NUM": 20, "LOC": 20, "HUM": 20}
    # the fixture's questions name their label: a teacher on 30 of them labels the rest right
    assert all(r["text"].split()[1] == r["label"] for r in rows)
    assert set(r["text"] for r in rows) <= set(dm.unlabeled_texts())


def test_the_doc2vec_teacher_writes_its_answers_and_its_validation_accuracy(tmp_path):
    dm = _dm(tmp_path, train_size=30)
    result = write_pseudo_labels(dm, tmp_path / "pseudo.jsonl", docs=60, teacher="nb_lr_doc2vec")
    rows = [json.loads(line) for line in (tmp_path / "pseudo.jsonl").read_text().splitlines()]
    assert result.docs == len(rows) == 60
    assert Counter(r["label"] for r in rows) == {"NUM": 20, "LOC": 20, "HUM": 20}
    assert result.teacher.name == "nb_lr_doc2vec" and result.teacher.doc_vectors is not None
    # the fixture's questions name their label; the teacher's vectors do not hide that
    assert sum(r["text"].split()[1] == r["label"] for r in rows) >= 54
    assert 0.0 <= result.teacher_valid_acc <= 1.0 and result.teacher.seconds > 0


def test_the_nb_lr_teacher_answers_as_nb_lr_with_three_labels(tmp_path):
    """Its answers and margins are NB-LR's own decision scores', as before there was a choice."""
    dm = _dm(tmp_path, train_size=30)
    result = write_pseudo_labels(dm, tmp_path / "pseudo.jsonl", docs=60)
    names = dm.label_names
    labels = np.asarray([names[i] for i in dm.split("train").labels])
    model = fit_linear_baseline("nb_lr", dm.split_tokens("train"), labels)
    _, tokens = dm.unlabeled_tokens()
    assert np.array_equal(result.teacher.predicted, model.predict(tokens))
    assert np.allclose(result.teacher.sure, confidence(model.decision_function(tokens)))
    with pytest.raises(ValueError, match="unknown teacher"):
        write_pseudo_labels(dm, tmp_path / "other.jsonl", docs=60, teacher="svm")
    assert not (tmp_path / "other.jsonl").exists()
