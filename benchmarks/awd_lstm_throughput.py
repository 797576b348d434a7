"""Language-model training tokens/s of the project's AWD-LSTM through the Trainer, against the
floor: a bare stack of `nn.LSTM` layers with the same shapes, no dropout, in a plain loop.

Shapes as the issue sets them: embedding 400, 3 layers (400 -> 1152 -> 1152 -> 400), tied
decoder over 30,000 words, batch 32, bptt 70. The AWD-LSTM runs with all its dropouts (weight
drop 0.5 included), AR/TAR and the length-scaled learning rate, as `fit` would. Both use SGD
and clipping at 0.25; rounds alternate so that changes in machine load hit both. With
`--fastai-python`, an interpreter with fastai 2.8 installed, fastai's `language_model_learner`
with the same shapes, weight drop 0.5, its own AR/TAR callbacks, SGD and clipping at 0.25 is
timed too through `Learner.fit` (`fastai_ratio`: ours over fastai's). With `--bf16 auto` (the
default) ours is also timed in bf16-mixed where the CPU has bf16 units (`bf16_floor_ratio`: ours
in bf16 over the fp32 floor) and so is the bare stack under bf16 autocast, the ceiling
(`bf16_bare_ratio`: ours in bf16 over it); the CPU's support is printed. Last line: one JSON object.

    python benchmarks/awd_lstm_throughput.py [--steps 8] [--rounds 2] [--fastai-python PATH]
        [--bf16 auto|on|off]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

import torch
from lm_timing import (
    bare_loop_tokens_per_s,
    bf16_columns_wanted,
    bf16_fields,
    random_loader,
    trainer_tokens_per_s,
)
from torch import nn
from torch.utils.data import DataLoader

from lightning_nlp.nn.awd_lstm import AWDLSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask

VOCAB, EMBED, HIDDEN, LAYERS, BATCH, BPTT, WARMUP = 30000, 400, 1152, 3, 32, 70, 2


class FloorLM(nn.Module):
    """Embedding, three plain nn.LSTM layers of the AWD-LSTM's shapes, tied decoder."""

    def __init__(self) -> None:
        super().__init__()
        sizes = [EMBED, HIDDEN, HIDDEN, EMBED]
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.layers = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(LAYERS)
        )
        self.decoder = nn.Linear(EMBED, VOCAB)
        self.decoder.weight = self.embedding.weight

    def forward(self, tokens, state):
        x = self.embedding(tokens)
        new_state = []
        for i, layer in enumerate(self.layers):
            x, s = layer(x, None if state is None else state[i])
            new_state.append(s)
        return self.decoder(x), new_state


def floor(steps: int, bf16: bool = False) -> float:
    """The bare stack's tokens/s; `bf16`: under bf16 autocast (the ceiling of ours in bf16)."""
    torch.manual_seed(0)
    model = FloorLM()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    return bare_loop_tokens_per_s(model, optimizer, _loader(steps), WARMUP, bf16)


def ours(steps: int, precision: str = "32-true") -> float:
    torch.manual_seed(0)
    network = AWDLSTMLanguageModel(VOCAB, EMBED, HIDDEN, LAYERS)  # the paper's dropouts
    task = LanguageModelTask(
        network, ar_alpha=2.0, tar_beta=1.0, optimizer=lambda p: torch.optim.SGD(p, lr=1.0)
    )
    return trainer_tokens_per_s(task, _loader(steps), WARMUP, False, precision)


def _loader(steps: int) -> DataLoader:
    return random_loader(VOCAB, BATCH, BPTT, steps + WARMUP)


FASTAI_SCRIPT = textwrap.dedent(
    """
    import time, numpy as np, torch
    from fastai.text.all import *
    V, B, T, STEPS, WARMUP = {vocab}, {batch}, {bptt}, {steps}, {warmup}
    torch.manual_seed(0)
    ids = np.random.default_rng(0).integers(4, V, B * T * (STEPS + WARMUP + 2) + 1)
    vocab = ["xxunk", "xxpad", "xxbos", "xxeos"] + [f"w{{i}}" for i in range(4, V)]
    dl = LMDataLoader([torch.tensor(ids)], bs=B, seq_len=T, shuffle=False)
    dls = DataLoaders(dl, dl, device="cpu")
    dls.vocab = vocab
    config = {{**awd_lstm_lm_config, "emb_sz": {embed}, "n_hid": {hidden}, "n_layers": {layers}}}
    config["weight_p"] = 0.5

    class Clock(Callback):  # times STEPS training batches after WARMUP, then stops
        order = 100
        def before_batch(self):
            if self.iter == WARMUP: self.learn.start = time.perf_counter()
        def after_batch(self):
            if self.iter == WARMUP + STEPS - 1:
                self.learn.stop = time.perf_counter()
                raise CancelFitException()

    # the learner as users train it: its AR/TAR, state-reset and clipping callbacks, SGD
    learn = language_model_learner(
        dls, AWD_LSTM, config=config, pretrained=False, opt_func=SGD, metrics=[]
    )
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, lr=1.0, cbs=[GradientClip(0.25), Clock()])
    print(STEPS * B * T / (learn.stop - learn.start))
    """
)


def fastai(python: str, steps: int) -> float:
    script = FASTAI_SCRIPT.format(
        vocab=VOCAB,
        batch=BATCH,
        bptt=BPTT,
        steps=steps,
        warmup=WARMUP,
        embed=EMBED,
        hidden=HIDDEN,
        layers=LAYERS,
    )
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fastai-python", help="a Python interpreter with fastai installed")
    parser.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                        help="time ours in bf16-mixed too (auto: where the CPU has bf16 units)")  # fmt: skip
    args = parser.parse_args()
    with_bf16 = bf16_columns_wanted(args.bf16)
    floors, oursl, fastais, bf16, bare_bf16 = [], [], [], [], []
    for round_ in range(args.rounds):
        floors.append(floor(args.steps))
        oursl.append(ours(args.steps))
        if with_bf16:
            bf16.append(ours(args.steps, "bf16-mixed"))
            bare_bf16.append(floor(args.steps, bf16=True))
        if args.fastai_python:
            fastais.append(fastai(args.fastai_python, args.steps))
        print(
            f"round {round_}: floor {floors[-1]:.0f} tok/s, ours {oursl[-1]:.0f} tok/s"
            + (f", ours bf16-mixed {bf16[-1]:.0f} tok/s" if bf16 else "")
            + (f", bare bf16 stack {bare_bf16[-1]:.0f} tok/s" if bare_bf16 else ""),
            file=sys.stderr,
        )
    result = {
        "shape": {
            "vocab": VOCAB,
            "embed": EMBED,
            "hidden": HIDDEN,
            "layers": LAYERS,
            "batch": BATCH,
            "bptt": BPTT,
        },
        "threads": torch.get_num_threads(),
        "floor_tokens_per_s": round(max(floors)),
        "awd_lstm_tokens_per_s": round(max(oursl)),
        "floor_ratio": round(max(oursl) / max(floors), 3),
        "fastai_tokens_per_s": round(max(fastais)) if fastais else None,
        "fastai_ratio": round(max(oursl) / max(fastais), 3) if fastais else None,
        "awd_lstm_bf16_tokens_per_s": round(max(bf16)) if bf16 else None,
        "bf16_floor_ratio": round(max(bf16) / max(floors), 3) if bf16 else None,
        "bare_bf16_tokens_per_s": round(max(bare_bf16)) if bare_bf16 else None,
        "bf16_bare_ratio": round(max(bf16) / max(bare_bf16), 3) if bare_bf16 else None,
        "bf16_fastai_ratio": round(max(bf16) / max(fastais), 3) if bf16 and fastais else None,
        **bf16_fields(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
