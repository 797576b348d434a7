"""Training tokens/s of the mission's LSTM LM: the project's Trainer against a bare PyTorch loop.

Same model class, shapes, optimiser, clipping and hidden-state handling in both; the Trainer
runs as the CLI would (progress bar, CSV logging, metrics). Rounds alternate between the two so
that drifts in machine load hit both. Prints one JSON object as its last line.

    python benchmarks/lm_throughput.py [--steps 40] [--rounds 2] [--vocab 33278]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from lm_timing import bare_loop_tokens_per_s, random_loader, trainer_tokens_per_s

from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask

BATCH, BPTT, WARMUP = 20, 35, 5


def bare_loop(vocab: int, steps: int) -> float:
    torch.manual_seed(0)
    model = LSTMLanguageModel(vocab, 512, 512, 2, 0.5, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return bare_loop_tokens_per_s(
        model, optimizer, random_loader(vocab, BATCH, BPTT, steps + WARMUP), WARMUP
    )


def trainer_loop(vocab: int, steps: int) -> float:
    torch.manual_seed(0)
    task = LanguageModelTask(LSTMLanguageModel(vocab, 512, 512, 2, 0.5, True))
    return trainer_tokens_per_s(task, random_loader(vocab, BATCH, BPTT, steps + WARMUP), WARMUP)


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
