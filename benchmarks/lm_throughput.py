"""Training tokens/s of the mission's LSTM LM: the project's Trainer against a bare PyTorch loop.

Same model class, shapes, optimiser, clipping and hidden-state handling in both; the Trainer
runs as the CLI would (progress bar, CSV logging, metrics). Rounds alternate between the two so
that drifts in machine load hit both. Prints one JSON object as its last line.

    python benchmarks/lm_throughput.py [--steps 40] [--rounds 2] [--vocab 33278]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from lightning_nlp.data.lm_stream import BPTTSampler, LMStream
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask

BATCH, BPTT, WARMUP = 20, 35, 5


def _loader(vocab: int, steps: int) -> DataLoader:
    ids = np.random.default_rng(0).integers(4, vocab, BATCH * BPTT * (steps + WARMUP) + BATCH)
    stream = LMStream(ids, BATCH)
    return DataLoader(stream, sampler=BPTTSampler(stream, BPTT), batch_size=None)


def bare_loop(vocab: int, steps: int) -> float:
    torch.manual_seed(0)
    model = LSTMLanguageModel(vocab, 512, 512, 2, 0.5, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    hidden = None
    start = 0.0
    for i, (tokens, targets) in enumerate(_loader(vocab, steps)):
        if i == WARMUP:
            start = time.perf_counter()
        logits, hidden = model(tokens, hidden)[:2]
        hidden = tuple(h.detach() for h in hidden)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
    return steps * BATCH * BPTT / (time.perf_counter() - start)


class _Clock(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == WARMUP:
            self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.stop = time.perf_counter()


def trainer_loop(vocab: int, steps: int) -> float:
    torch.manual_seed(0)
    task = LanguageModelTask(LSTMLanguageModel(vocab, 512, 512, 2, 0.5, True))
    clock = _Clock()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_epochs=1,
            accelerator="cpu",
            devices=1,
            gradient_clip_val=0.25,
            logger=pl.loggers.CSVLogger(tmp),
            enable_checkpointing=False,
            callbacks=[clock],
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=50,
        )
        trainer.fit(task, train_dataloaders=_loader(vocab, steps))
    return steps * BATCH * BPTT / (clock.stop - clock.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=33278, help="WikiText-2's vocabulary size")
    args = parser.parse_args()
    bare, framed = [], []
    for _ in range(args.rounds):
        bare.append(bare_loop(args.vocab, args.steps))
        framed.append(trainer_loop(args.vocab, args.steps))
        print(f"bare {bare[-1]:.0f} tok/s   trainer {framed[-1]:.0f} tok/s")
    result = {
        "benchmark": "lm_throughput",
        "model": "LSTM 2x512 tied",
        "batch": BATCH,
        "bptt": BPTT,
        "vocab": args.vocab,
        "steps": args.steps,
        "rounds": args.rounds,
        "torch_threads": torch.get_num_threads(),
        "bare_tokens_per_s": round(float(np.median(bare)), 1),
        "trainer_tokens_per_s": round(float(np.median(framed)), 1),
        "ratio": round(float(np.median(framed) / np.median(bare)), 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
