"""What bf16-mixed buys a user on this CPU: a `fit` epoch with its validation, and `predict`,
timed in fp32 and in bf16-mixed in one process, built from the project's configs as
`lightning-nlp fit` builds them.

Experiments: `lm`, the mission's 2x512 tied LSTM LM (`configs/lm/wikitext2_lstm.yaml`; an LM
has no `predict`), and `classify`, the BiGRU of `configs/classify/sst2_gru.yaml` (fit, then
`predict` over `--predict-docs` documents). By default both read the embedded synthetic
reviews (no data needed); `--data-dir` names a folder holding `wikitext-2/` (trained on
wiki.valid.tokens, validated on wiki.test.tokens: the files this machine has) and `sst2/`.

Training is timed per batch (step and optimiser), validation and predict per loop (under
`torch.inference_mode`, as Lightning runs them); the first training batch of each run is left
out (warm-up). The default run is short (`--train-batches 20 --val-batches 10`); `--full` runs
whole epochs. Where the CPU has no bf16 units (neither AMX nor AVX-512 BF16) it says so and
measures nothing. Prints a table; the last line is one JSON object.

    python benchmarks/bf16_fit.py [--experiments lm classify] [--data-dir ../shared/data]
        [--train-batches 20] [--val-batches 10] [--predict-docs 1000] [--full] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from lightning_nlp.cli import run_cli
from lightning_nlp.training.precision import bf16_support

ROOT = Path(__file__).resolve().parents[1]
PRECISIONS = ("32-true", "bf16-mixed")
GRU = ["--model.network.cell", "gru", "--model.network.embed_dim", "300",
       "--model.network.hidden_dim", "150", "--model.network.num_layers", "1",
       "--model.network.bidirectional", "true", "--model.network.pooling", "max",
       "--model.network.dropout", "0.5", "--data.batch_size", "32"]  # fmt: skip
LSTM_2X512 = ["--model.network.embed_dim", "512", "--model.network.hidden_dim", "512",
              "--model.network.num_layers", "2", "--model.network.dropout", "0.5",
              "--model.network.tie_weights", "true"]  # fmt: skip


class Clock(pl.Callback):
    """Seconds per training batch, and per validation / predict loop, with their batch counts."""

    def __init__(self) -> None:
        self.train: list[float] = []
        self.loops: dict[str, float] = {}
        self.batches: dict[str, int] = {"val": 0, "predict": 0}

    def on_train_batch_start(self, *args: Any) -> None:
        self._batch = time.perf_counter()

    def on_train_batch_end(self, *args: Any) -> None:
        self.train.append(time.perf_counter() - self._batch)

    def on_validation_epoch_start(self, *args: Any) -> None:
        self._loop = time.perf_counter()

    def on_validation_batch_end(self, *args: Any) -> None:
        self.batches["val"] += 1

    def on_validation_epoch_end(self, *args: Any) -> None:
        self.loops["val"] = self.loops.get("val", 0.0) + time.perf_counter() - self._loop

    def on_predict_epoch_start(self, *args: Any) -> None:
        self._loop = time.perf_counter()

    def on_predict_batch_end(self, *args: Any) -> None:
        self.batches["predict"] += 1

    def on_predict_epoch_end(self, *args: Any) -> None:
        self.loops["predict"] = time.perf_counter() - self._loop


def experiment_args(name: str, data_dir: str | None, num_docs: int | None) -> list[str]:
    """The CLI arguments of an experiment (without trainer and run-folder settings)."""
    if name == "lm":
        if data_dir:
            return ["--config", str(ROOT / "configs/lm/wikitext2_lstm.yaml"),
                    "--data.data_dir", str(Path(data_dir) / "wikitext-2"),
                    "--data.train_file", "wiki.valid.tokens",
                    "--data.val_file", "wiki.test.tokens"]  # fmt: skip
        args = ["--config", str(ROOT / "configs/lm/embedded_lstm.yaml"), *LSTM_2X512]
    elif data_dir:
        return ["--config", str(ROOT / "configs/classify/sst2_gru.yaml"),
                "--data.data_dir", str(Path(data_dir) / "sst2")]  # fmt: skip
    else:
        args = ["--config", str(ROOT / "configs/classify/embedded_lstm.yaml"), *GRU]
    return args + (["--data.num_docs", str(num_docs)] if num_docs else [])


def predict_texts(data_dir: str | None, count: int) -> list[str]:
    """Documents to classify: SST-2's test sentences, or unseen synthetic reviews."""
    if data_dir:
        lines = (Path(data_dir) / "sst2" / "stsa.binary.test").read_text().splitlines()
        return [line.partition(" ")[2] for line in lines[:count]]
    from lightning_nlp.data.synthetic.reviews import generate_reviews

    return [review.text for review in generate_reviews(count, seed=1)]


def run(name: str, precision: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One fit epoch (with validation) and, for a classifier, one predict, at `precision`."""
    cli_args = experiment_args(name, args.data_dir, args.num_docs)
    if name == "classify":
        texts = tmp / "predict.txt"
        texts.write_text("\n".join(predict_texts(args.data_dir, args.predict_docs)) + "\n")
        cli_args += ["--data.predict_file", str(texts),
                     "--predictions.output", str(tmp / f"predictions-{precision}.jsonl")]  # fmt: skip
    limits = [] if args.full else [
        "--trainer.limit_train_batches", str(args.train_batches),
        "--trainer.limit_val_batches", str(args.val_batches),
    ]  # fmt: skip
    cli_args += [*limits, "--trainer.max_epochs", "1", "--trainer.precision", precision,
                 "--trainer.logger", "false", "--trainer.enable_checkpointing", "false",
                 "--trainer.enable_progress_bar", "false",
                 "--trainer.enable_model_summary", "false",
                 "--trainer.num_sanity_val_steps", "0",
                 "--trainer.default_root_dir", str(tmp / "runs")]  # fmt: skip
    cli = run_cli(cli_args, run=False)
    clock = Clock()
    cli.trainer.callbacks.append(clock)
    start = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    fit_s = time.perf_counter() - start
    if name == "classify":
        cli.trainer.predict(cli.model, datamodule=cli.datamodule, return_predictions=False)
    steady = clock.train[1:] or clock.train
    return {
        "experiment": name,
        "precision": precision,
        "fit_s": round(fit_s, 2),
        "train_batches": len(clock.train),
        "train_ms_per_batch": round(1e3 * statistics.mean(steady), 1),
        "val_batches": clock.batches["val"],
        "val_s": round(clock.loops.get("val", float("nan")), 2),
        "predict_docs": args.predict_docs if name == "classify" else None,
        "predict_s": round(clock.loops["predict"], 2) if "predict" in clock.loops else None,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'experiment':10s} {'precision':10s} {'train ms/batch':>14s} {'val s':>7s} " \
           f"{'predict s':>9s} {'fit s':>7s}"  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        predict = "-" if r["predict_s"] is None else f"{r['predict_s']:.2f}"
        lines.append(f"{r['experiment']:10s} {r['precision']:10s} "
                     f"{r['train_ms_per_batch']:14.1f} {r['val_s']:7.2f} {predict:>9s} "
                     f"{r['fit_s']:7.1f}")  # fmt: skip
    return "\n".join(lines)


def speedups(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """fp32 time over bf16 time (> 1: bf16 is faster) per experiment and phase."""
    out = {}
    for name in dict.fromkeys(r["experiment"] for r in rows):
        fp32, bf16 = (next(r for r in rows if r["experiment"] == name and r["precision"] == p)
                      for p in PRECISIONS)  # fmt: skip
        out[name] = {
            key: round(fp32[key] / bf16[key], 2) if fp32[key] and bf16[key] else None
            for key in ("train_ms_per_batch", "val_s", "predict_s")
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", nargs="+", choices=["lm", "classify"],
                        default=["lm", "classify"])  # fmt: skip
    parser.add_argument("--data-dir", help="folder with wikitext-2/ and sst2/ (e.g. "
                        "../shared/data); default: the embedded synthetic reviews")  # fmt: skip
    parser.add_argument("--num-docs", type=int, help="embedded corpus size (default: config's)")
    parser.add_argument("--train-batches", type=int, default=20)
    parser.add_argument("--val-batches", type=int, default=10)
    parser.add_argument("--predict-docs", type=int, default=1000)
    parser.add_argument("--full", action="store_true", help="whole epochs, no batch limits")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # the CLI is built from its own arguments, not these
    os.environ.setdefault("WANDB_MODE", "disabled")
    if args.threads:
        torch.set_num_threads(args.threads)
    support = bf16_support("cpu")
    print(support.describe())
    result: dict[str, Any] = {
        "benchmark": "bf16_fit",
        "cpu": support.name,
        "cpu_capability": support.capability,
        "bf16_units": support.units or None,
        "threads": torch.get_num_threads(),
        "data": args.data_dir or "embedded",
        "limits": None if args.full else {"train": args.train_batches, "val": args.val_batches},
    }
    if not support.supported:
        print("no bf16 units on this CPU: bf16-mixed is refused here, nothing measured")
        print(json.dumps({**result, "results": None}))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.experiments:
            for precision in PRECISIONS:
                rows.append(run(name, precision, args, Path(tmp)))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(table(rows))
    print(json.dumps({**result, "results": rows, "fp32_over_bf16": speedups(rows)}))


if __name__ == "__main__":
    main()
