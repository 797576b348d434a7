"""The readers on the real corpora in ../shared/data (opt in with --runslow)."""

import pytest

from lightning_nlp.data.classification.imdb_sample import IMDbSampleDataModule
from lightning_nlp.data.classification.sst2 import SST2DataModule
from lightning_nlp.data.classification.trec import TRECDataModule
from tests.conftest import shared_corpus


@pytest.mark.slow
def test_sst2_sizes(tmp_path):
    dm = SST2DataModule(str(shared_corpus("sst2")), cache_dir=str(tmp_path))
    splits = {s: dm.split(s) for s in ("train", "valid", "test")}
    sizes = {s: len(split.documents) + split.skipped_empty for s, split in splits.items()}
    assert sizes == {"train": 6920, "valid": 872, "test": 1821}


@pytest.mark.slow
def test_trec_latin1_coarse_and_fine(tmp_path):
    coarse = TRECDataModule(str(shared_corpus("trec")), cache_dir=str(tmp_path))
    assert coarse.label_names == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    assert len(coarse.split("test").documents) == 500
    assert sum(len(coarse.split(s).documents) for s in ("train", "valid")) == 5452
    fine = TRECDataModule(str(shared_corpus("trec")), fine=True, cache_dir=str(tmp_path))
    assert 45 <= fine.num_classes <= 50


@pytest.mark.slow
def test_imdb_sample(tmp_path):
    dm = IMDbSampleDataModule(str(shared_corpus("imdb_sample")), cache_dir=str(tmp_path))
    assert len(dm.split("test").documents) == 200
    assert dm.label_names == ["negative", "positive"]
