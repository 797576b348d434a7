"""Exact resume: a run stopped after epoch k and resumed from its `last.ckpt` ends with the
weights and metrics of the run that was never stopped (dropout masks, variable BPTT windows,
batch order and the random state all continue where they were)."""

import os
import sys

import pytest
import torch
from pytorch_lightning.callbacks import Callback

from lightning_nlp.cli import main, run_cli
from tests.test_cli import _tiny_args


def _final(cli) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    weights = {k: v.clone() for k, v in cli.model.state_dict().items()}
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    return weights, metrics


@pytest.mark.integration
def test_resumed_lm_run_ends_as_the_uninterrupted_one(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    extra = ["--data.variable_bptt", "true", "--model.network.dropout", "0.3"]
    whole = run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=3, wandb=False), *extra])
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False), *extra])
    ckpt = tmp_path / "run" / "version_1" / "checkpoints" / "last.ckpt"
    resumed = run_cli([
        "fit", *_tiny_args(tiny_corpus, tmp_path, epochs=3, wandb=False), *extra,
        "--ckpt_path", str(ckpt),
    ])  # fmt: skip
    (weights_a, metrics_a), (weights_b, metrics_b) = _final(whole), _final(resumed)
    assert metrics_a.keys() == metrics_b.keys() and "val/ppl" in metrics_a
    assert metrics_b == metrics_a
    for name, value in weights_a.items():
        assert torch.equal(weights_b[name], value), name


def test_epoch_reseeding_accepts_any_seed(monkeypatch):
    from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
    from lightning_nlp.tasks.base import Task

    task = Task(LSTMLanguageModel(20, 8, 8, 1, 0.0), torch.optim.Adam)
    for seed in ("0", "12345", str(2**32 - 1)):  # seed_everything takes at most 2**32 - 1
        monkeypatch.setenv("PL_GLOBAL_SEED", seed)
        Task.on_train_batch_start(task, (torch.zeros(2, 3, dtype=torch.long),) * 2, 0)
        first = torch.rand(3)
        Task.on_train_batch_start(task, (torch.zeros(2, 3, dtype=torch.long),) * 2, 0)
        assert torch.equal(torch.rand(3), first)  # the same seed and epoch: the same stream
        assert os.environ["PL_GLOBAL_SEED"] == seed


class PoisonWeights(Callback):
    """Makes the loss NaN from the third step of the second epoch on."""

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if trainer.current_epoch == 1 and batch_idx == 2:
            with torch.no_grad():
                module.network.decoder.bias.fill_(float("nan"))


def test_a_non_finite_loss_stops_the_run_keeping_the_last_good_checkpoint(
    tiny_corpus, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    args = _tiny_args(tiny_corpus, tmp_path, epochs=3, wandb=False)
    with pytest.raises(SystemExit) as stop:
        main(["fit", *args, "--trainer.callbacks+=tests.test_resume.PoisonWeights"])
    assert stop.value.code == 2
    message = capsys.readouterr().err
    last = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    assert "training loss is nan at step" in message and str(last) in message
    assert "Traceback" not in message
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["epoch"] == 0  # written after epoch 0, before the loss went bad
    assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values())
