"""Label budgets (`--data.train_size`): stratified, seeded, nested samples of train."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lightning_nlp.data.classification.labeled_texts import (
    class_allocation,
    nested_stratified_sample,
)
from lightning_nlp.data.classification.trec import TRECDataModule
from lightning_nlp.data.text.io import CorpusError

SIZES = {"NUM": 250, "LOC": 150, "HUM": 100}  # 500 questions, no validation file


def _trec(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{label}:x question {label} {i} ?" for label, n in SIZES.items() for i in range(n)]
    (folder / "train_5500.label").write_text("\n".join(lines) + "\n", encoding="iso-8859-1")
    (folder / "TREC_10.label").write_text("\n".join(lines[::10]) + "\n", encoding="iso-8859-1")
    return folder


def _train(tmp_path: Path, size: int | None, seed: int = 0) -> TRECDataModule:
    return TRECDataModule(
        str(_trec(tmp_path / "trec")),
        cache_dir=str(tmp_path / "cache"),
        train_size=size,
        split_seed=seed,
    )


def _origins(dm: TRECDataModule, split: str) -> set[str]:
    return set(dm.texts(split).origins)


def test_sample_is_exact_stratified_seeded_and_nested(tmp_path):
    full = _train(tmp_path, None).texts("train")
    shares = {label: n / len(full) for label, n in Counter(full.labels).items()}
    samples = {size: _train(tmp_path, size) for size in (7, 100, 300)}
    for size, dm in samples.items():
        counts = Counter(dm.texts("train").labels)
        assert len(dm.texts("train")) == size
        assert all(abs(counts[label] - size * share) < 1 for label, share in shares.items())
    assert _origins(samples[7], "train") < _origins(samples[100], "train")
    assert _origins(samples[100], "train") < _origins(samples[300], "train")
    assert _origins(_train(tmp_path, 100), "train") == _origins(samples[100], "train")
    assert _origins(_train(tmp_path, 100, seed=1), "train") != _origins(samples[100], "train")


def test_validation_does_not_depend_on_the_budget(tmp_path):
    held = _origins(_train(tmp_path, None), "valid")
    assert len(held) == 50
    for size in (3, 100, 300):
        dm = _train(tmp_path, size)
        assert _origins(dm, "valid") == held
        assert not _origins(dm, "train") & held


def test_budget_beyond_train_or_below_the_classes_is_refused(tmp_path):
    assert len(_train(tmp_path, 450).texts("train")) == 450  # all of train (500 - 50 held out)
    with pytest.raises(CorpusError, match="train_size 451: the training split has only 450"):
        _train(tmp_path, 451).texts("train")
    with pytest.raises(CorpusError, match="train_size 2: fewer documents than the 3 classes"):
        _train(tmp_path, 2).texts("train")


def test_class_allocation_keeps_quota_and_never_shrinks_a_class():
    rng = np.random.default_rng(0)
    for _ in range(50):
        sizes = rng.integers(1, 40, rng.integers(2, 7))
        previous = np.zeros(len(sizes), dtype=int)
        for size in range(sizes.sum() + 1):
            counts = class_allocation(sizes, size)
            quota = size * sizes / sizes.sum()
            assert counts.sum() == size
            assert (np.floor(quota) <= counts).all() and (counts <= np.ceil(quota)).all()
            assert (counts >= previous).all()  # largest remainder fails this (Alabama paradox)
            previous = counts


def test_alabama_paradox_case_stays_nested():
    # Hamilton's method gives the third class 2 of 10 seats and then 1 of 11
    labels = ["a"] * 6 + ["b"] * 6 + ["c"] * 2
    small = set(nested_stratified_sample(labels, 10, seed=5).tolist())
    large = set(nested_stratified_sample(labels, 11, seed=5).tolist())
    assert small < large and len(large) == 11


def test_subset_seed_moves_the_sample_not_validation(tmp_path):
    def dm(seed):
        return TRECDataModule(
            str(_trec(tmp_path / "trec")), cache_dir=str(tmp_path / "cache"), train_size=50,
            subset_seed=seed,
        )  # fmt: skip

    a, b = dm(1), dm(2)
    assert _origins(a, "train") != _origins(b, "train")
    assert _origins(a, "valid") == _origins(b, "valid") == _origins(_train(tmp_path, None), "valid")


def test_a_class_the_sample_misses_is_still_a_class(tmp_path):
    folder = tmp_path / "rare"
    folder.mkdir()
    lines = [f"NUM:x q {i} ?" for i in range(200)] + [f"LOC:x q {i} ?" for i in range(200)]
    lines += ["ABBR:x rare one ?", "ABBR:x rare two ?", "ABBR:x rare three ?"]
    (folder / "train_5500.label").write_text("\n".join(lines) + "\n", encoding="iso-8859-1")
    (folder / "TREC_10.label").write_text("ABBR:x rare test ?\nNUM:x q ?\n", encoding="iso-8859-1")
    dm = TRECDataModule(str(folder), cache_dir=str(tmp_path / "cache"), train_size=10)
    assert "ABBR" not in set(dm.texts("train").labels)  # too rare for 10 documents
    assert dm.label_names == ["ABBR", "LOC", "NUM"]
    assert len(dm.split("test").labels) == 2  # its test question is no error
