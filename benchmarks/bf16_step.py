"""Training tokens/s of a bare LSTM LM step in fp32 and under bf16 autocast, on this CPU.

Where the CPU has no bf16 units, bf16 runs emulated (`LIGHTNING_NLP_EMULATE_BF16`'s numerics:
oneDNN off, LSTMs in bf16), which shows why the project refuses bf16 there. Last line: one
JSON object.

    python benchmarks/bf16_step.py [--hidden 512] [--vocab 33278] [--steps 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

from lightning_nlp.training.precision import bf16_support, emulated_bf16_kernels

BATCH, BPTT = 20, 35


def tokens_per_s(hidden: int, vocab: int, steps: int, bf16: bool) -> float:
    torch.manual_seed(0)
    embedding, lstm = nn.Embedding(vocab, hidden), nn.LSTM(hidden, hidden, 2, batch_first=True)
    decoder = nn.Linear(hidden, vocab)
    params = [*embedding.parameters(), *lstm.parameters(), *decoder.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.1)
    inputs, targets = torch.randint(vocab, (2, BATCH, BPTT))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = decoder(lstm(embedding(inputs))[0])  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH * BPTT / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--vocab", type=int, default=33278)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    support = bf16_support("cpu")
    fp32 = tokens_per_s(args.hidden, args.vocab, args.steps, False)
    emulation = contextlib.nullcontext() if support.supported else emulated_bf16_kernels()
    with emulation:
        bf16 = tokens_per_s(args.hidden, args.vocab, args.steps, True)
    result = {"benchmark": "bf16_step", "hidden": args.hidden, "vocab": args.vocab,
              "threads": torch.get_num_threads(), "cpu": support.describe(),
              "bf16_emulated": not support.supported, "fp32_tokens_per_s": round(fp32, 1),
              "bf16_tokens_per_s": round(bf16, 1), "bf16_over_fp32": round(bf16 / fp32, 3)}  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
