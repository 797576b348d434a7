"""Test accuracy of classifier configs over several seeds, on the real corpora in ../shared/data.

Each run: `lightning-nlp fit` with the config (and overrides), then test with the checkpoint of
the best validation accuracy. Prints one JSON line per run (test accuracy, and the validation
accuracy that chose the checkpoint: compare settings on it, not on the test) and, last, one JSON
object with the mean and standard deviation of each setting.

    python benchmarks/classifier_seeds.py --plan readme     # the README's results table
    python benchmarks/classifier_seeds.py --plan csv_default  # candidates for configs/classify/csv.yaml
    python benchmarks/classifier_seeds.py --plan elmo --elmo-weights runs/elmo/bilm_imdb/version_0/pretrained
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

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CORPORA = {  # name -> (data module, folder)
    "sst2": ("lightning_nlp.data.classification.sst2.SST2DataModule", "sst2"),
    "trec": ("lightning_nlp.data.classification.trec.TRECDataModule", "trec"),
    "imdb_sample": (
        "lightning_nlp.data.classification.imdb_sample.IMDbSampleDataModule",
        "imdb_sample",
    ),
    "gnad": ("lightning_nlp.data.classification.gnad.GNADDataModule", "10kgnad"),
}


def _encoder(cell: str, pooling: str, embed: int, hidden: int, min_freq: int) -> list[str]:
    return [
        "--model.network.cell", cell, "--model.network.bidirectional", "true",
        "--model.network.pooling", pooling, "--model.network.embed_dim", str(embed),
        "--model.network.hidden_dim", str(hidden), "--data.min_freq", str(min_freq),
    ]  # fmt: skip


CSV_CANDIDATES = {  # cell, pooling, sizes and vocabulary cut-off; epochs: early stopping
    "bilstm_last": _encoder("lstm", "last", 100, 128, 1),
    "bilstm_max": _encoder("lstm", "max", 100, 128, 1),
    "bigru_max": _encoder("gru", "max", 100, 128, 1),
    "bilstm_last_300": _encoder("lstm", "last", 300, 150, 2),
    "bilstm_max_300": _encoder("lstm", "max", 300, 150, 2),
    "bigru_max_300": _encoder("gru", "max", 300, 150, 2),
    "bigru_last_300": _encoder("gru", "last", 300, 150, 2),
    "bigru_mean_300": _encoder("gru", "mean", 300, 150, 2),
}


ADAM = [  # in place of the paper's Adadelta (lr 1.0, up to 60 epochs, patience 10)
    "--model.init_args.optimizer.class_path", "torch.optim.Adam",
    "--model.init_args.optimizer.init_args.lr", "0.001",
    "--trainer.max_epochs", "20", "--model.init_args.early_stopping_patience", "5",
]  # fmt: skip


def plans(vectors: str | None, elmo_weights: str) -> dict[str, list[tuple[str, str, list[str]]]]:
    """plan -> [(setting name, config, extra arguments)]"""
    csv = [
        (
            f"{corpus}/{name}",
            "configs/classify/csv.yaml",
            ["--data", module, "--data.data_dir", str(DATA / folder), *args],
        )
        for corpus, (module, folder) in CORPORA.items()
        for name, args in CSV_CANDIDATES.items()
    ]
    readme = [
        ("sst2_gru", "configs/classify/sst2_gru.yaml", ["--data.data_dir", str(DATA / "sst2")]),
        ("sst2_lstm", "configs/classify/sst2_lstm.yaml", ["--data.data_dir", str(DATA / "sst2")]),
        ("trec_lstm", "configs/classify/trec_lstm.yaml", ["--data.data_dir", str(DATA / "trec")]),
    ]
    if vectors:
        readme += [
            (
                "sst2_lstm+w2v",
                "configs/classify/sst2_lstm.yaml",
                ["--data.data_dir", str(DATA / "sst2"), "--model.vectors", vectors],
            ),
            (
                "trec_lstm+w2v",
                "configs/classify/trec_lstm.yaml",
                [
                    "--data.data_dir",
                    str(DATA / "trec"),
                    "--model.vectors",
                    vectors,
                    "--model.network.embed_dim",
                    "300",
                ],
            ),
        ]
    sst2 = ["--data.data_dir", str(DATA / "sst2")]
    trec = ["--data.data_dir", str(DATA / "trec")]
    weights = ["--model.init_args.network.init_args.elmo_weights", elmo_weights]
    elmo = [  # frozen ELMo beside a trained embedding against the embedding alone
        ("sst2_elmo", "configs/elmo/sst2_elmo.yaml", [*sst2, *weights]),
        ("sst2_random", "configs/elmo/sst2_random.yaml", sst2),
        ("sst2_elmo+adam", "configs/elmo/sst2_elmo.yaml", [*sst2, *weights, *ADAM]),
        ("sst2_random+adam", "configs/elmo/sst2_random.yaml", [*sst2, *ADAM]),
        ("trec_elmo", "configs/elmo/trec_elmo.yaml", [*trec, *weights]),
        ("trec_random", "configs/elmo/trec_random.yaml", trec),
    ]
    return {"csv_default": csv, "readme": readme, "elmo": elmo}


def run(config: str, extra: list[str], seed: int, root: Path) -> tuple[float, float, float]:
    """Test accuracy, best validation accuracy, seconds."""
    from lightning_nlp.cli import run_cli

    args = ["--config", str(ROOT / config), *extra, "--seed_everything", str(seed)]
    args += ["--trainer.default_root_dir", str(root), "--trainer.logger", "false"]
    args += ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
    start = time.perf_counter()
    cli = run_cli(["fit", *args])
    result = cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path="best", verbose=False)
    best_val = float(cli.trainer.checkpoint_callback.best_model_score)
    return float(result[0]["test/acc"]), best_val, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", choices=["readme", "csv_default", "elmo"], default="readme")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--vectors", default=None, help="word2vec file for the +w2v rows")
    parser.add_argument(
        "--elmo-weights",
        default=str(ROOT / "runs/elmo/bilm_imdb/version_0/pretrained"),
        help="the biLM of the elmo plan (configs/elmo/bilm_imdb.yaml's model folder)",
    )
    parser.add_argument("--only", default=None, help="run only settings containing this text")
    parser.add_argument("--settings", nargs="+", default=None, help="run only these settings")
    parser.add_argument(
        "--extra", action="append", default=[], help="a CLI argument for every run (repeat)"
    )
    options = parser.parse_args()
    os.environ.setdefault("WANDB_MODE", "disabled")
    sys.argv = sys.argv[:1]
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, config, extra in plans(options.vectors, options.elmo_weights)[options.plan]:
            if options.only and options.only not in name:
                continue
            if options.settings and name not in options.settings:
                continue
            accuracies, validation, seconds = [], [], []
            for seed in options.seeds:
                accuracy, val_acc, wall = run(
                    config, [*extra, *options.extra], seed, Path(tmp) / name.replace("/", "_")
                )
                accuracies.append(accuracy)
                validation.append(val_acc)
                seconds.append(wall)
                print(
                    json.dumps(
                        {
                            "setting": name,
                            "seed": seed,
                            "test_acc": accuracy,
                            "val_acc": round(val_acc, 4),
                            "seconds": round(wall, 1),
                        }
                    ),
                    flush=True,
                )
            summary[name] = {
                "mean": round(statistics.mean(accuracies), 4),
                "std": round(statistics.stdev(accuracies), 4) if len(accuracies) > 1 else 0.0,
                "val_mean": round(statistics.mean(validation), 4),
                "runs": len(accuracies),
                "seconds_per_run": round(statistics.mean(seconds), 1),
            }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
