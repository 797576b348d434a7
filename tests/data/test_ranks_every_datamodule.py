"""Every data module splits its batches over DDP ranks so that 2 ranks with batch B see, step by
step, the samples of one process with batch 2B, each once, and weight them so that DDP's mean of
the ranks' mean losses is the step's mean: the condition for DDP to train as one process does
(tests/tasks/test_ddp_fit.py checks whole runs for four of them).

The test finds the package's data modules itself: a new one without a case here fails."""

import importlib
import inspect
import pkgutil
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import lightning_nlp.data
from lightning_nlp.data.classification.dataset import TextBatch
from lightning_nlp.data.sentences.datamodule import SentenceBatch
from lightning_nlp.data.vocab_datamodule import VocabDataModule
from tests.conftest import write_corpus
from tests.data import corpus_fixtures as fx


def _lm_files(folder: Path, names: tuple[str, str, str]) -> str:
    corpus = write_corpus(folder / "plain")
    folder.mkdir(parents=True, exist_ok=True)
    for split, name in zip(("train", "valid", "test"), names):
        (folder / name).write_text((corpus / f"{split}.txt").read_text())
    return str(folder)


def _sentences(folder: Path) -> str:
    return str(write_corpus(folder))


CASES = {  # class name: (module, arguments given a tmp folder)
    "SST2DataModule": ("classification.sst2", lambda t: {"data_dir": str(fx.write_sst2(t, 61))}),
    "TRECDataModule": ("classification.trec", lambda t: {"data_dir": str(fx.write_trec(t, 61))}),
    "IMDbDataModule": ("classification.imdb", lambda t: {"data_dir": str(fx.write_imdb_tar(t))}),
    "NewsgroupsDataModule": (
        "classification.newsgroups",
        lambda t: {"data_dir": str(fx.write_newsgroups_tar(t)), "six_classes": True},
    ),
    "GNADDataModule": ("classification.gnad", lambda t: {"data_dir": str(fx.write_gnad(t, 31))}),
    "IMDbSampleDataModule": (
        "classification.imdb_sample",
        lambda t: {"data_dir": str(fx.write_imdb_sample(t, 41))},
    ),
    "TableFilesDataModule": (
        "classification.table_files",
        lambda t: {"data_dir": str(fx.write_csv(t, 41))},
    ),
    "EmbeddedClassificationDataModule": (
        "synthetic.embedded",
        lambda t: {"data_dir": str(t), "num_docs": 130},
    ),
    "TextFilesLMDataModule": (
        "lm.datamodule",
        lambda t: {"data_dir": _lm_files(t, ("train.txt", "valid.txt", "test.txt"))},
    ),
    "PTBDataModule": (
        "lm.ptb",
        lambda t: {"data_dir": _lm_files(t, ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"))},
    ),
    "WikiText2DataModule": (
        "lm.wikitext",
        lambda t: {
            "data_dir": _lm_files(t, ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"))
        },  # fmt: skip
    ),
    "WikiText103DataModule": (
        "lm.wikitext",
        lambda t: {
            "data_dir": _lm_files(t, ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"))
        },  # fmt: skip
    ),
    "EmbeddedLMDataModule": ("synthetic.embedded", lambda t: {"data_dir": str(t), "num_docs": 130}),
    "IMDbLMDataModule": (
        "classification.imdb",
        lambda t: {"data_dir": str(fx.write_imdb_tar(t)), "val_fraction": 0.3},
    ),
    "SentenceFilesDataModule": (
        "sentences.datamodule",
        lambda t: {"data_dir": _sentences(t), "val_fraction": 0.2},
    ),
    "IMDbSentenceDataModule": (
        "sentences.datamodule",
        lambda t: {"data_dir": str(fx.write_imdb_tar(t)), "val_fraction": 0.2},
    ),
}


def _concrete_datamodules() -> set[str]:
    for info in pkgutil.walk_packages(lightning_nlp.data.__path__, "lightning_nlp.data."):
        importlib.import_module(info.name)
    found, todo = set(), [VocabDataModule]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if not inspect.isabstract(cls) and not cls.__name__.startswith("_"):
            found.add(cls.__name__)
    return found - {"VocabDataModule", "ClassificationDataModule", "SentenceLMDataModule"}


def test_every_data_module_has_a_case_here():
    assert _concrete_datamodules() == set(CASES)


def _batches(factory, tmp_path: Path, rank: int, world: int, batch: int, split: str) -> list:
    module, arguments = CASES[factory]
    cls = getattr(importlib.import_module(f"lightning_nlp.data.{module}"), factory)
    kwargs = {**arguments(tmp_path / "data"), "cache_dir": str(tmp_path / "cache")}
    kwargs.update(batch_size=batch, eval_batch_size=batch, order_seed=3)
    dm = cls(**kwargs)
    dm.trainer = SimpleNamespace(global_rank=rank, world_size=world, logger=None)
    dm.setup("fit")
    loader = dm.train_dataloader() if split == "train" else dm.val_dataloader()
    if hasattr(loader.sampler, "epoch"):
        loader.sampler.epoch = 1  # an order other than the first epoch's
    return list(loader)


def _rows(batch) -> tuple[list, float]:
    """A batch's samples as hashable rows (in order) and their weight in the step's loss."""
    if isinstance(batch, TextBatch):
        rows = [(tuple(t[:n].tolist()), int(y)) for t, n, y in
                zip(batch.tokens, batch.lengths, batch.labels)]  # fmt: skip
        return rows, float(len(rows))
    if isinstance(batch, SentenceBatch):
        rows = [tuple(t[: n + 2].tolist()) for t, n in zip(batch.targets, batch.lengths)]
        return rows, float((batch.lengths + 1).sum())  # a per-token loss
    inputs, targets = batch  # an LM window (B, L): each rank holds its rows of the step
    rows = [tuple(x.tolist()) + tuple(y.tolist()) for x, y in zip(inputs, targets)]
    return rows, float(inputs.numel())


@pytest.mark.parametrize("split", ["train", "valid"])
@pytest.mark.parametrize("factory", sorted(CASES))
def test_two_ranks_share_out_the_steps_of_one_process(tmp_path, factory, split):
    torch.manual_seed(0)
    one = _batches(factory, tmp_path, 0, 1, 8, split)
    ranks = [_batches(factory, tmp_path, r, 2, 4, split) for r in (0, 1)]
    assert len(one) >= (2 if split == "train" else 1), factory
    assert all(len(r) == len(one) for r in ranks), factory
    lm = not isinstance(one[0], TextBatch | SentenceBatch)
    for step, whole in enumerate(one):
        rows, weight = _rows(whole)
        shares = [_rows(r[step]) for r in ranks]
        if lm:  # rows are contiguous shards: rank 0's rows, then rank 1's
            assert rows == shares[0][0] + shares[1][0], (factory, step)
        else:
            assert Counter(rows) == Counter(shares[0][0]) + Counter(shares[1][0]), (factory, step)
        if split == "train" and not lm:  # DDP averages the ranks' means: each is rescaled
            for r, (_, share_weight) in enumerate(shares):
                scale = getattr(ranks[r][step], "loss_scale", 1.0)
                assert scale == pytest.approx(2 * share_weight / weight), (factory, step, r)
