"""An interrupted run against the uninterrupted one: fits a config to the end; fits it again,
stopped by a signal in the middle of an epoch (SIGTERM by default, as a scheduler preempts);
resumes that run from its `last.ckpt` (written every `--every` steps); prints both runs' last
validation metrics side by side, and whether the final weights are identical.

    python benchmarks/resume.py --config configs/classify/sst2_lstm.yaml --stop-at 250 \\
        --every 100 -- --data.data_dir ../shared/data/sst2 --trainer.max_epochs 2

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent)) or "lightning-nlp"


def fit(args: list[str], folder: Path) -> tuple[int, float]:
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONPATH": str(ROOT)}
    command = [EXE, "fit", *args, "--trainer.default_root_dir", str(folder)]
    command += ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]
    command += ["--trainer.enable_progress_bar", "false"]
    start = time.perf_counter()
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    return done.returncode, time.perf_counter() - start


def outcome(folder: Path) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """The newest run folder's last validation metrics and final weights."""
    run = max(folder.glob("version_*"), key=lambda p: int(p.name.split("_")[1]))
    with open(run / "metrics.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("val/loss")]
    metrics = {
        k: float(v) for k, v in rows[-1].items() if (k.startswith("val/") or k == "epoch") and v
    }
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return metrics, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--stop-at", type=int, required=True, help="the step after which to stop")
    parser.add_argument("--every", type=int, required=True, help="checkpoint every N steps")
    parser.add_argument("--signal", default="SIGTERM", choices=["SIGTERM", "SIGINT", "SIGKILL"])
    parser.add_argument("extra", nargs="*", help="more fit arguments, after --")
    args = parser.parse_args()
    common = ["--config", args.config, *args.extra]
    common += ["--model.checkpoint_every_n_steps", str(args.every)]
    signum = int(getattr(signal, args.signal))
    stop = ["--trainer.callbacks+=tests.signal_at_step.SignalAtStep"]
    stop += [
        "--trainer.callbacks.step",
        str(args.stop_at),
        "--trainer.callbacks.signum",
        str(signum),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        whole, stopped = Path(tmp) / "whole", Path(tmp) / "stopped"
        status, whole_s = fit(common, whole)
        if status != 0:
            sys.exit(f"the uninterrupted run failed ({status})")
        status, stopped_s = fit([*common, *stop], stopped)
        last = stopped / "version_0" / "checkpoints" / "last.ckpt"
        saved_step = torch.load(last, weights_only=True)["global_step"]
        status_resumed, resumed_s = fit([*common, "--ckpt_path", str(last)], stopped)
        if status_resumed != 0:
            sys.exit(f"the resumed run failed ({status_resumed})")
        (whole_metrics, whole_weights), (metrics, weights) = outcome(whole), outcome(stopped)
    same = all(torch.equal(weights[k], v) for k, v in whole_weights.items())
    print(
        json.dumps(
            {
                "benchmark": "resume",
                "config": args.config,
                "signal": args.signal,
                "stopped_exit_status": status,
                "stopped_after_step": args.stop_at,
                "resumed_from_step": saved_step,
                "uninterrupted": whole_metrics,
                "interrupted_then_resumed": metrics,
                "identical_final_weights": same,
                "wall_s": {
                    "uninterrupted": round(whole_s, 1),
                    "stopped": round(stopped_s, 1),
                    "resumed": round(resumed_s, 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
