"""Under DDP each rank reads its own rows and perplexity is reduced over all of them.

Run through the command line, as users run DDP (`--trainer.strategy ddp`: Lightning starts the
other rank as a new process). Two ranks with 3 rows each must give the perplexity of one
process with 6 rows.
"""

import csv
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lightning_nlp.cli import run_cli
from tests.test_cli import _tiny_args, user_env

EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))


def _test_ppl(args: list[str], folder: Path, devices: int) -> float:
    env = user_env()
    command = [EXE, "test", *args, "--trainer.default_root_dir", str(folder)]
    command += ["--data.eval_batch_size", str(6 // devices), "--trainer.accelerator", "cpu"]
    command += [
        "--trainer.devices",
        str(devices),
        "--trainer.strategy",
        "ddp" if devices > 1 else "auto",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(folder / "version_0" / "metrics.csv") as handle:
        return float(next(row["test/ppl"] for row in csv.DictReader(handle) if row.get("test/ppl")))


@pytest.mark.integration
def test_two_ranks_see_the_rows_of_one_double_batch(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    args = _tiny_args(tiny_corpus, tmp_path, epochs=4, wandb=False)
    run_cli(["fit", *args])
    args += ["--ckpt_path", str(tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt")]
    single = _test_ppl(args, tmp_path / "one", devices=1)
    ddp = _test_ppl(args, tmp_path / "two", devices=2)
    assert math.isclose(ddp, single, rel_tol=1e-5), (ddp, single)
    assert single < 18  # a trained model: every token's probability matters


def _tiny_test_run(corpus: Path, cache: Path, devices: int, strategy: str = "auto"):
    import pytorch_lightning as pl
    import torch

    from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
    from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
    from lightning_nlp.tasks.language_model import LanguageModelTask

    dm = TextFilesLMDataModule(
        str(corpus), bptt=5, eval_batch_size=6 // devices, cache_dir=str(cache)
    )
    torch.manual_seed(0)
    task = LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0))
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy=strategy,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
    )
    return task, trainer, dm


def test_each_run_accumulates_into_metric_states_of_its_own(tiny_corpus, tmp_path):
    """The cause of the old 18.9-vs-21.0 DDP mismatch: `ddp_spawn` hands every rank the
    task's metric states in one shared memory, so ranks added into the same sums and a
    simultaneous add could lose a batch. `Task.setup` now replaces the states first."""
    task, trainer, dm = _tiny_test_run(tiny_corpus, tmp_path / "c", devices=1)
    before = dict(task.ppl["test_ppl"].metric_state)
    for state in before.values():
        state.share_memory_()  # as a spawned rank receives them
    ppl = trainer.test(task, dm, verbose=False)[0]["test/ppl"]
    assert all(float(t) == 0 for t in before.values())  # nobody wrote into the handed-over sums
    after = task.ppl["test_ppl"].metric_state
    assert not any(after[name] is before[name] for name in before)
    task, trainer, dm = _tiny_test_run(tiny_corpus, tmp_path / "c", devices=1)
    assert ppl == trainer.test(task, dm, verbose=False)[0]["test/ppl"]  # states never shared


@pytest.mark.slow
def test_ddp_spawn_ranks_do_not_share_metric_states(tiny_corpus, tmp_path):
    """Lightning's `ddp_spawn`, in this process: the ranks' sums stay their own (the parent's
    copy untouched) and two ranks give one process's perplexity."""
    task, trainer, dm = _tiny_test_run(tiny_corpus, tmp_path / "c", devices=1)
    single = trainer.test(task, dm, verbose=False)[0]["test/ppl"]
    task, trainer, dm = _tiny_test_run(tiny_corpus, tmp_path / "c", devices=2, strategy="ddp_spawn")
    ddp = trainer.test(task, dm, verbose=False)[0]["test/ppl"]
    assert float(task.ppl["test_ppl"].tokens) == 0  # the ranks wrote into states of their own
    assert math.isclose(ddp, single, rel_tol=1e-6), (ddp, single)
