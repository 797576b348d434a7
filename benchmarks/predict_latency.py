"""Wall time of `lightning-nlp predict` on N SST-2 test sentences with a trained checkpoint.

Runs the command as a user would (a fresh process, output redirected to a file), with an empty
tokenisation cache unless --warm. `--repo` points at another checkout of the project (e.g. an
older commit) to compare; `--data_dir` may name a folder without the training files.

    python benchmarks/predict_latency.py --ckpt runs/classify/sst2_gru --config configs/classify/sst2_gru.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--config", default=str(ROOT / "configs/classify/sst2_gru.yaml"))
    parser.add_argument("--data_dir", default=str(ROOT.parent / "shared/data/sst2"))
    parser.add_argument(
        "--sentences", default=str(ROOT.parent / "shared/data/sst2/stsa.binary.test")
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repo", default=str(ROOT))
    parser.add_argument(
        "--warm", action="store_true", help="keep one tokenisation cache for all runs"
    )
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    lines = Path(options.sentences).read_text().splitlines()[: options.n]
    texts = [line.partition(" ")[2] for line in lines]
    env = {**os.environ, "PYTHONPATH": options.repo, "WANDB_MODE": "disabled"}
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in.txt"
        inputs.write_text("\n".join(texts) + "\n")
        for repeat in range(options.repeats):
            cache = Path(tmp) / ("cache" if options.warm else f"cache{repeat}")
            output = Path(tmp) / "predictions.jsonl"
            command = [
                sys.executable,
                "-m",
                "lightning_nlp.cli",
                "predict",
                "--config",
                options.config,
                "--data.data_dir",
                options.data_dir,
                "--data.cache_dir",
                str(cache),
                "--ckpt_path",
                options.ckpt,
                "--data.predict_file",
                str(inputs),
                "--trainer.default_root_dir",
                str(Path(tmp) / "runs"),
                "--trainer.logger",
                "false",
            ]
            start = time.perf_counter()
            with open(output, "w") as handle:
                done = subprocess.run(
                    command, cwd=tmp, env=env, stdout=handle, stderr=subprocess.PIPE, text=True
                )
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            written = len(output.read_text().splitlines())
            print(
                json.dumps({"repeat": repeat, "seconds": round(times[-1], 2), "lines": written}),
                flush=True,
            )
    print(
        json.dumps(
            {
                "repo": options.repo,
                "data_dir": options.data_dir,
                "documents": len(texts),
                "warm_cache": options.warm,
                "seconds_min": round(min(times), 2),
                "seconds_mean": round(sum(times) / len(times), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
