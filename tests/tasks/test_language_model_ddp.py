"""Under DDP each rank reads its own rows and perplexity is reduced over all of them.

Run through the command line, as users run DDP (`--trainer.strategy ddp`: Lightning starts the
other rank as a new process). Two ranks with 3 rows each must give the perplexity of one
process with 6 rows.
"""

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lightning_nlp.cli import run_cli
from tests.test_cli import _tiny_args

EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))


def _test_ppl(args: list[str], folder: Path, devices: int) -> float:
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
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
