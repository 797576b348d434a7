"""DDP against one process: fits a config on 2 CPU ranks (gloo) with batch B each and in one
process with batch 2B, then prints both runs' last validation metrics and wall times.

With dropout off the metrics agree up to float order (tests/tasks/test_ddp_fit.py checks it
on tiny data); with dropout each rank draws its own masks, so they agree only in expectation.
The one process gets both cores' threads, each rank one.

    python benchmarks/ddp_fit.py --config configs/classify/sst2_lstm.yaml --batch-size 32 \\
        -- --data.data_dir ../shared/data/sst2 --trainer.max_epochs 1

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent)) or "lightning-nlp"


def fit(
    config: str, batch: int, eval_batch: int | None, devices: int, extra: list[str], folder: Path
) -> dict:
    """One run; its wall time and its last validation metrics from the CSV log."""
    threads = max(1, (os.cpu_count() or 1) // devices)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "WANDB_MODE": "disabled"}
    command = [EXE, "fit", "--config", config, *extra, "--data.batch_size", str(batch)]
    if eval_batch is not None:  # the LM's evaluation rows: their number changes the metric
        command += ["--data.eval_batch_size", str(eval_batch)]
    command += ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]
    command += ["--trainer.default_root_dir", str(folder), "--trainer.accelerator", "cpu"]
    command += ["--trainer.devices", str(devices), "--trainer.enable_progress_bar", "false"]
    command += ["--trainer.strategy", "ddp" if devices > 1 else "auto"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    with open(folder / "version_0" / "metrics.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("val/loss")]
    metrics = {k: float(v) for k, v in rows[-1].items() if k.startswith("val/") and v}
    return {"devices": devices, "batch_per_rank": batch, "wall_s": round(seconds, 1), **metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--batch-size", type=int, required=True, help="B: per rank under DDP")
    parser.add_argument("--eval-batch-size", type=int, help="per rank under DDP")
    parser.add_argument("extra", nargs="*", help="more fit arguments, after --")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        evals = (
            (None, None)
            if args.eval_batch_size is None
            else (2 * args.eval_batch_size, args.eval_batch_size)
        )
        one = fit(args.config, 2 * args.batch_size, evals[0], 1, args.extra, Path(tmp) / "one")
        print(json.dumps(one), flush=True)
        two = fit(args.config, args.batch_size, evals[1], 2, args.extra, Path(tmp) / "two")
        print(json.dumps(two), flush=True)
    result = {"config": args.config, "one_process": one, "ddp_2_ranks": two}
    result["ddp_speedup"] = round(one["wall_s"] / two["wall_s"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
