"""A non-finite loss on one DDP rank stops every rank with the message (the ranks decide
together), instead of the other ranks waiting in the next all-reduce: run through the command
line as users run DDP (`--trainer.strategy ddp`), rank 1 alone gets a NaN loss."""

import os
import subprocess

import pytest

from lightning_nlp.tasks.text_classifier import TextClassifierTask
from tests.tasks.test_language_model_ddp import EXE
from tests.test_cli import ROOT, user_env


class NaNOnRankOne(TextClassifierTask):
    """Rank 1 alone gets a NaN loss at step 2."""

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        if self.global_rank == 1 and self.global_step == 2:
            loss = loss * float("nan")
        return loss


@pytest.mark.integration
def test_a_nan_loss_on_one_rank_stops_both_ranks_with_the_message(tmp_path):
    env = user_env()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])  # the test task
    command = [
        EXE, "fit", "--config", str(ROOT / "configs/classify/embedded_lstm.yaml"),
        "--model.class_path", f"{__name__}.NaNOnRankOne",
        "--model.network.embed_dim", "8", "--model.network.hidden_dim", "8",
        "--data.cache_dir", str(tmp_path / "cache"),
        "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp",
        "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "5",
        "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(tmp_path / "run"),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    # rank 0 (this process) stops with the message and status 2, not killed in an all-reduce
    assert done.returncode == 2, done.stderr[-3000:]
    assert "error: the training loss is nan on at least one rank at step 2" in done.stderr
