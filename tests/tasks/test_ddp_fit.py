"""Fitting on 2 ranks with batch B follows one process with batch 2B up to float order: the
same steps over the same samples, each counted once (dropout off: its masks are random), and
the validation after each epoch gives the same metrics.

The classifier's 61 training sentences leave a last step of 5, shared 3 and 2, and the biLM's
sentences differ in length: the loss scales keep each step's loss the mean over the step's
sentences (tokens for the biLM), not a mean of the ranks' means."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lightning_nlp.cli import run_cli
from tests.conftest import write_corpus
from tests.data import corpus_fixtures as fx
from tests.tasks.test_language_model_ddp import EXE
from tests.test_cli import ROOT, _tiny_args, user_env

LOGGER = ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]


def _classifier(tmp_path: Path, batch: int) -> list[str]:
    fx.write_sst2(tmp_path / "sst2", n=61)
    return [
        "--config", str(ROOT / "configs/classify/sst2_lstm.yaml"),
        "--data.data_dir", str(tmp_path / "sst2"), "--data.min_freq", "1",
        "--data.cache_dir", str(tmp_path / "cache"), "--data.batch_size", str(batch),
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
        "--model.network.dropout", "0", "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false", *LOGGER,
    ]  # fmt: skip


def _embedded_classifier(tmp_path: Path, batch: int) -> list[str]:
    return [
        "--config", str(ROOT / "configs/classify/embedded_lstm.yaml"),
        "--data.num_docs", "150", "--data.cache_dir", str(tmp_path / "cache"),
        "--data.batch_size", str(batch),
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
        "--model.network.dropout", "0", "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false", *LOGGER,
    ]  # fmt: skip


def _language_model(tmp_path: Path, batch: int) -> list[str]:
    corpus = write_corpus(tmp_path / "corpus")
    args = _tiny_args(corpus, tmp_path, epochs=2, wandb=False)
    args[args.index("--data.batch_size") + 1] = str(batch)
    args[args.index("--data.eval_batch_size") + 1] = str(batch // 2)  # rows: 4 = 2 ranks x 2
    return [*args, "--model.network.dropout", "0"]


def _bilm(tmp_path: Path, batch: int) -> list[str]:
    corpus = write_corpus(tmp_path / "corpus")
    return [
        "--config", str(ROOT / "configs/elmo/bilm_imdb.yaml"),
        "--data.class_path", "lightning_nlp.data.sentences.datamodule.SentenceFilesDataModule",
        "--data.data_dir", str(corpus), "--data.val_fraction", "0.2",
        "--data.cache_dir", str(tmp_path / "cache"), "--data.batch_size", str(batch),
        "--model.network.filters", "[[1, 8], [2, 8]]", "--model.network.cell_dim", "32",
        "--model.network.projection_dim", "16", "--model.network.dropout", "0",
        "--model.network.output_dropout", "0", "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false", *LOGGER,
    ]  # fmt: skip


def _fit(args: list[str], folder: Path, devices: int) -> tuple[list[dict[str, float]], dict]:
    """Fits; returns each validation's metrics and the final weights."""
    command = ["fit", *args, "--trainer.default_root_dir", str(folder)]
    command += ["--trainer.accelerator", "cpu", "--trainer.devices", str(devices)]
    command += ["--trainer.strategy", "ddp" if devices > 1 else "auto"]
    if devices == 1:
        run_cli(command)
    else:  # as users run DDP: Lightning starts the other rank as a new process
        env = user_env()
        env["OMP_NUM_THREADS"] = "1"
        done = subprocess.run([EXE, *command], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    with open(folder / "version_0" / "metrics.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("val/loss")]
    metrics = [{k: float(v) for k, v in r.items() if k.startswith("val/") and v} for r in rows]
    checkpoint = folder / "version_0" / "checkpoints" / "last.ckpt"
    return metrics, torch.load(checkpoint, weights_only=True)["state_dict"]


@pytest.mark.integration
@pytest.mark.parametrize(
    "task",
    [_classifier, _embedded_classifier, _language_model, _bilm],
    ids=["lstm-sst2", "lstm-embedded", "lstm-lm", "elmo-bilm"],
)
def test_two_ranks_with_batch_b_follow_one_process_with_batch_2b(tmp_path, monkeypatch, task):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    one_metrics, one_weights = _fit(task(tmp_path, 8), tmp_path / "one", devices=1)
    two_metrics, two_weights = _fit(task(tmp_path, 4), tmp_path / "two", devices=2)
    assert len(one_metrics) == len(two_metrics) >= 2  # evaluations during the run
    assert one_metrics[0]["val/loss"] != one_metrics[-1]["val/loss"]  # the model did learn
    for one, two in zip(one_metrics, two_metrics):
        assert set(one) == set(two) and "val/loss" in one
        for name, value in one.items():
            assert two[name] == pytest.approx(value, rel=1e-4), name
    assert one_weights.keys() == two_weights.keys()
    for name, weight in one_weights.items():
        torch.testing.assert_close(two_weights[name], weight, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.integration
def test_gradual_unfreezing_fits_on_two_ranks_and_unfreezes_as_one_process(tmp_path, monkeypatch):
    """The ULMFiT classifier's frozen groups give DDP's reducer parameters without a gradient:
    the 2-rank fit must run (it stopped with DDP's unused-parameter error), leave the groups
    that stayed frozen at their initial weights and train the group unfrozen in its second
    stage. (The head's BatchNorm keeps per-rank statistics on CPU ranks, so the trained weights
    agree with one process's only in expectation: docs/results.md gives the figure.)"""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])

    def args(batch: int, epochs: int) -> list[str]:
        return [
            "--config", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--data.num_docs", "600", "--data.train_size", "64",
            "--data.cache_dir", str(tmp_path / "cache"), "--data.batch_size", str(batch),
            "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
            "--trainer.max_epochs", str(epochs), "--trainer.enable_progress_bar", "false",
            *LOGGER,
        ]  # fmt: skip

    # stages: the head in epoch 0, then the head and the top LSTM layer; after one epoch in
    # one process the encoder still holds the seeded initial weights
    _, initial = _fit(args(8, epochs=1), tmp_path / "one", devices=1)
    _, two = _fit(args(4, epochs=2), tmp_path / "two", devices=2)
    assert initial.keys() == two.keys()
    layers = "network.encoder.layers."
    frozen = [
        n for n in two if n.startswith(("network.encoder.embedding", layers + "0", layers + "1"))
    ]
    top = [n for n in two if n.startswith(layers + "2") and two[n].is_floating_point()]
    assert frozen and top
    for name in frozen:  # never unfrozen
        assert torch.equal(two[name], initial[name]), name
    assert any(not torch.equal(two[name], initial[name]) for name in top)  # trained in stage 2
