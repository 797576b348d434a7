"""Training tokens/s of the mission's LSTM LM: the project's Trainer against a bare PyTorch loop.

Same model class, shapes, optimiser, clipping and hidden-state handling in both; the Trainer
runs as the CLI would (progress bar, CSV logging, metrics). Rounds alternate between the two so
that drifts in machine load hit both. Prints one JSON object as its last line.

With `--bf16 auto` (the default) the Trainer is also timed in bf16-mixed where the CPU has
bf16 units (AMX or AVX-512 BF16); the CPU's support is printed and in the JSON line.

    python benchmarks/lm_throughput.py [--steps 40] [--rounds 2] [--vocab 33278] [--bf16 auto]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from lm_timing import (
    bare_loop_tokens_per_s,
    bf16_columns_wanted,
    bf16_fields,
    random_loader,
    trainer_tokens_per_s,
)

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


def trainer_loop(vocab: int, steps: int, precision: str = "32-true") -> float:
    torch.manual_seed(0)
    task = LanguageModelTask(LSTMLanguageModel(vocab, 512, 512, 2, 0.5, True))
    loader = random_loader(vocab, BATCH, BPTT, steps + WARMUP)
    return trainer_tokens_per_s(task, loader, WARMUP, precision=precision)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=33278, help="WikiText-2's vocabulary size")
    parser.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                        help="time the Trainer in bf16-mixed too (auto: where the CPU has "
                        "bf16 units)")  # fmt: skip
    args = parser.parse_args()
    with_bf16 = bf16_columns_wanted(args.bf16)
    bare, framed, bf16 = [], [], []
    for _ in range(args.rounds):
        bare.append(bare_loop(args.vocab, args.steps))
        framed.append(trainer_loop(args.vocab, args.steps))
        if with_bf16:
            bf16.append(trainer_loop(args.vocab, args.steps, "bf16-mixed"))
        print(f"bare {bare[-1]:.0f} tok/s   trainer {framed[-1]:.0f} tok/s"
              + (f"   trainer bf16-mixed {bf16[-1]:.0f} tok/s" if bf16 else ""))  # fmt: skip
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
        "trainer_bf16_tokens_per_s": round(float(np.median(bf16)), 1) if bf16 else None,
        "bf16_ratio": round(float(np.median(bf16) / np.median(framed)), 3) if bf16 else None,
        "bf16_floor_ratio": round(float(np.median(bf16) / np.median(bare)), 3) if bf16 else None,
        **bf16_fields(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
