"""IMDb: padding efficiency of sortish vs random batches, and BiLSTM training throughput.

Padding efficiency = real tokens / padded tokens over all training batches of one epoch.
Throughput = training documents/s of the `imdb_bilstm` model (BiLSTM 2x128, embeddings 200,
max pooling, max_len 400) on sortish batches through the Trainer. Prints one JSON line last.

    python benchmarks/imdb_batching.py [--data_dir ../shared/data/imdb] [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import pytorch_lightning as pl
import torch

from lightning_nlp.data.classification.dataset import SortishBatchSampler
from lightning_nlp.data.classification.imdb import IMDbDataModule
from lightning_nlp.nn.text_classifiers import RNNClassifier
from lightning_nlp.tasks.text_classifier import TextClassifierTask


def efficiency(lengths: np.ndarray, batches: list[list[int]]) -> float:
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    return float(lengths.sum() / padded)


class _Clock(pl.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.docs = warmup, 0

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == self.warmup:
            self.start = time.perf_counter()
        if batch_idx >= self.warmup:
            self.docs += len(batch.labels)

    def on_train_epoch_end(self, trainer, module):
        self.stop = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_dir", default="../shared/data/imdb")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    result = {"benchmark": "imdb_batching", "batch_size": args.batch_size}
    for max_len in (None, 400):
        dm = IMDbDataModule(
            args.data_dir, max_len=max_len, max_vocab=30000, batch_size=args.batch_size
        )
        lengths = np.array([len(d) for d in dm.split("train").documents])
        sortish = SortishBatchSampler(lengths, args.batch_size, shuffle=True).batches()
        shuffled = np.random.default_rng(0).permutation(len(lengths))
        random_batches = [
            shuffled[i : i + args.batch_size] for i in range(0, len(shuffled), args.batch_size)
        ]
        tag = "full" if max_len is None else f"max{max_len}"
        result[f"padding_efficiency_sortish_{tag}"] = round(efficiency(lengths, sortish), 4)
        result[f"padding_efficiency_random_{tag}"] = round(efficiency(lengths, random_batches), 4)
    torch.manual_seed(0)
    task = TextClassifierTask(
        RNNClassifier(
            dm.vocab_size, 200, 128, dm.num_classes, bidirectional=True, pooling="max", dropout=0.5
        )
    )
    clock = _Clock(warmup=5)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_epochs=1,
            limit_train_batches=args.steps + 5,
            accelerator="cpu",
            logger=pl.loggers.CSVLogger(tmp),
            enable_checkpointing=False,
            callbacks=[clock],
            num_sanity_val_steps=0,
            limit_val_batches=0,
            enable_model_summary=False,
            default_root_dir=tmp,
        )
        trainer.fit(task, dm)
    result["bilstm_train_docs_per_s"] = round(clock.docs / (clock.stop - clock.start), 1)
    result["bilstm_steps_timed"] = args.steps
    print(json.dumps(result))


if __name__ == "__main__":
    main()
