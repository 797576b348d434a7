"""Interrupted runs: SIGTERM, SIGINT (Ctrl+C) or `kill -9` in the middle of an epoch lose at most
the steps since the last checkpoint (written every N steps), and the run resumed from
`last.ckpt` ends with the weights and metrics of the run that was never stopped: dropout
masks, the variable-BPTT schedule, the batch order and the LM's carried state continue
where the checkpoint left them. Run as users run them: `lightning-nlp fit` in a process."""

import csv
import os
import signal
import subprocess
from pathlib import Path

import pytest
import torch

from tests.conftest import write_corpus
from tests.tasks.test_language_model_ddp import EXE
from tests.test_cli import ROOT, _tiny_args

EVERY = 5  # checkpoint every 5 steps; an epoch of this corpus has 14
STOP_AT = 22  # the second epoch's 8th step: 2 steps after the checkpoint of step 20


def _fit(corpus: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess:
    args = _tiny_args(corpus, folder, epochs=2, wandb=False)
    args += ["--data.variable_bptt", "true", "--model.network.dropout", "0.3"]
    args += ["--model.checkpoint_every_n_steps", str(EVERY)]
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONPATH": str(ROOT)}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(
        [EXE, "fit", *args, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    """A shell starting a job in the background ignores SIGINT for it, and so would the run:
    give it back Ctrl+C's default, as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _outcome(folder: Path) -> tuple[dict[str, torch.Tensor], list[dict[str, str]]]:
    """The final weights and the validation rows of the newest run folder."""
    run = max((folder / "run").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    with open(run / "metrics.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("val/ppl")]
    return state["state_dict"], rows


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    corpus = write_corpus(folder / "corpus")
    done = _fit(corpus, folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return _outcome(folder)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("signum", "status"),
    [
        (signal.SIGTERM, 128 + signal.SIGTERM),
        pytest.param(signal.SIGINT, 1, marks=pytest.mark.slow),  # the same path, another way in
        pytest.param(signal.SIGKILL, -signal.SIGKILL, marks=pytest.mark.slow),
    ],
    ids=["SIGTERM", "SIGINT", "kill-9"],
)
def test_a_run_stopped_mid_epoch_resumes_to_the_same_end(uninterrupted, tmp_path, signum, status):
    corpus = write_corpus(tmp_path / "corpus")
    callback = ["--trainer.callbacks+=tests.signal_at_step.SignalAtStep"]
    callback += [
        "--trainer.callbacks.step",
        str(STOP_AT),
        "--trainer.callbacks.signum",
        str(signum),
    ]
    stopped = _fit(corpus, tmp_path, *callback)
    assert stopped.returncode == status, stopped.stderr[-3000:]
    assert "Traceback" not in stopped.stderr, stopped.stderr[-3000:]
    last = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=True)
    assert saved["global_step"] == STOP_AT // EVERY * EVERY  # the steps since then are lost
    resumed = _fit(corpus, tmp_path, "--ckpt_path", str(last))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    weights, rows = _outcome(tmp_path)
    whole_weights, whole_rows = uninterrupted
    assert len(whole_rows) == 2 and rows[-1]["epoch"] == whole_rows[-1]["epoch"] == "1"
    assert rows[-1]["val/ppl"] == whole_rows[-1]["val/ppl"]  # the end of the second epoch
    for name, value in whole_weights.items():
        assert torch.equal(weights[name], value), name


@pytest.mark.slow
def test_a_ddp_run_stopped_mid_epoch_resumes_to_the_same_end(tmp_path):
    """Each rank carries its own rows' state: the checkpoint keeps every rank's."""
    corpus = write_corpus(tmp_path / "corpus")
    ddp = ["--trainer.devices", "2", "--trainer.strategy", "ddp", "--trainer.accelerator", "cpu"]
    ddp += ["--data.batch_size", "2", "--data.eval_batch_size", "1"]
    whole = tmp_path / "whole"
    assert _fit(corpus, whole, *ddp).returncode == 0
    callback = ["--trainer.callbacks+=tests.signal_at_step.SignalAtStep"]
    callback += ["--trainer.callbacks.step", str(STOP_AT), "--trainer.callbacks.signum", "15"]
    stopped = _fit(corpus, tmp_path, *ddp, *callback)
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr[-3000:]
    last = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    state = torch.load(last, weights_only=True)["lightning_nlp_train_state"]
    assert state["ranks"] == 2 and state["state"][0].shape[0] == 2  # (ranks, layers, B, H)
    resumed = _fit(corpus, tmp_path, *ddp, "--ckpt_path", str(last))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    weights, rows = _outcome(tmp_path)
    whole_weights, whole_rows = _outcome(whole)
    assert rows[-1]["val/ppl"] == whole_rows[-1]["val/ppl"]
    for name, value in whole_weights.items():
        assert torch.equal(weights[name], value), name
