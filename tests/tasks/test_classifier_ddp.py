"""Under DDP every test document is scored once: two ranks give one process's accuracy and F1
exactly, for a classic classifier and for the ULMFiT classifier (BPT3C over long documents).
Run through the command line, as users run DDP (`--trainer.strategy ddp`)."""

import csv
import sys
from pathlib import Path

import pytest

from lightning_nlp.cli import run_cli
from tests.data import corpus_fixtures as fx
from tests.tasks.test_language_model_ddp import EXE
from tests.test_cli import ROOT, user_env

LOGGER = ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]


def _test_metrics(args: list[str], folder: Path, devices: int) -> dict[str, float]:
    import subprocess

    env = user_env()
    command = [EXE, "test", *args, *LOGGER, "--trainer.default_root_dir", str(folder)]
    command += ["--data.eval_batch_size", "4", "--trainer.accelerator", "cpu"]
    command += ["--trainer.devices", str(devices)]
    command += ["--trainer.strategy", "ddp" if devices > 1 else "auto"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(folder / "version_0" / "metrics.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r.get("test/acc"))
    return {k: float(v) for k, v in row.items() if k.startswith("test/") and v}


def _sst2(tmp_path: Path) -> list[str]:
    fx.write_sst2(tmp_path / "sst2", n=61)  # an odd number of test sentences
    return [
        "--config", str(ROOT / "configs/classify/sst2_lstm.yaml"),
        "--data.data_dir", str(tmp_path / "sst2"), "--data.min_freq", "1",
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
    ]  # fmt: skip


def _ulmfit(tmp_path: Path) -> list[str]:
    return [
        "--config", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
        "--data.num_docs", "600", "--data.train_size", "64",
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
        "--model.network.bptt", "8",  # several chunks a review: BPT3C's state is carried
    ]  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("data", [_sst2, _ulmfit], ids=["lstm-sst2", "ulmfit-bpt3c"])
def test_two_ranks_score_every_document_once(tmp_path, monkeypatch, data):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    args = [*data(tmp_path), "--data.cache_dir", str(tmp_path / "cache")]
    run_cli([
        "fit", *args, "--trainer.max_epochs", "2", "--trainer.logger", "false",
        "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir",
        str(tmp_path / "run"),
    ])  # fmt: skip
    args += ["--ckpt_path", str(tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt")]
    single = _test_metrics(args, tmp_path / "one", devices=1)
    ddp = _test_metrics(args, tmp_path / "two", devices=2)
    assert {"test/acc", "test/loss"} <= set(single) and set(single) == set(ddp)
    for name, value in single.items():
        if name == "test/loss":  # a mean of floats: equal up to summation order
            assert ddp[name] == pytest.approx(value, rel=1e-5)
        else:  # counts: exactly
            assert ddp[name] == value, name


def test_batch_norm_is_synchronised_across_ranks_on_gpus_only(tmp_path, monkeypatch):
    """The ULMFiT head's BatchNorm1d keeps per-rank statistics under DDP unless synchronised:
    the CLI turns on Lightning's sync_batchnorm on GPUs; torch's SyncBatchNorm refuses CPU
    tensors, so a 2-rank CPU run keeps plain batch norm (and trains)."""
    import torch

    from lightning_nlp.cli.main import sync_batchnorm_wanted

    assert sync_batchnorm_wanted("gpu") and sync_batchnorm_wanted("cuda")
    assert not sync_batchnorm_wanted("cpu")
    assert sync_batchnorm_wanted("auto") == torch.cuda.is_available()
    monkeypatch.chdir(tmp_path)
    args = [*_ulmfit(tmp_path), "--data.cache_dir", str(tmp_path / "cache")]
    args += ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
    cli = run_cli([*args, "--trainer.logger", "false"], run=False)
    assert cli.trainer.strategy._layer_sync is None
