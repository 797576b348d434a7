"""Exact resume: a run stopped after epoch k and resumed from its `last.ckpt` ends with the
weights and metrics of the run that was never stopped (dropout masks, variable BPTT windows,
batch order and the random state all continue where they were)."""

import sys

import pytest
import torch

from lightning_nlp.cli import run_cli
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
