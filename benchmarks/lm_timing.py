"""Shared timing for the language-model throughput benchmarks: a random token stream, a bare
PyTorch training loop and the same steps through the Trainer, each timed after a warm-up."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from lightning_nlp.data.lm.stream import BPTTSampler, LMStream
from lightning_nlp.nn.recurrent_state import detach_state
from lightning_nlp.training.precision import EMULATE_ENV, bf16_support


def random_loader(vocab: int, batch: int, bptt: int, windows: int) -> DataLoader:
    """`windows` BPTT windows (B, bptt) of random word ids, as `fit` reads a corpus."""
    ids = np.random.default_rng(0).integers(4, vocab, batch * bptt * windows + batch)
    stream = LMStream(ids, batch)
    return DataLoader(stream, sampler=BPTTSampler(stream, bptt), batch_size=None)


def bare_loop_tokens_per_s(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader,
    warmup: int,
    bf16: bool = False,
) -> float:
    """Trains `model` (returning logits and state first) over `loader`, state carried and
    detached, clipping at 0.25; tokens/s after the first `warmup` windows. `bf16`: the forward
    under bf16 autocast (the loss in fp32), as bf16-mixed runs it."""
    model.train()
    state, start, tokens = None, 0.0, 0
    for i, (inputs, targets) in enumerate(loader):
        if i == warmup:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, state = model(inputs, state)[:2]
        state = detach_state(state)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        tokens += targets.numel() if i >= warmup else 0
    return tokens / (time.perf_counter() - start)


class _Clock(pl.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.tokens = warmup, 0

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == self.warmup:
            self.start = time.perf_counter()
        self.tokens += batch[1].numel() if batch_idx >= self.warmup else 0

    def on_train_epoch_end(self, trainer, module):
        self.stop = time.perf_counter()


def bf16_columns_wanted(mode: str) -> bool:
    """`--bf16 auto` times bf16 only where the CPU has bf16 units; `on` always (emulated and
    slow without them); `off` never. Prints what this CPU supports."""
    support = bf16_support("cpu")
    print(support.describe(), file=sys.stderr)
    if mode == "on" and not support.supported:
        os.environ[EMULATE_ENV] = "1"
    return mode == "on" or (mode == "auto" and support.supported)


def bf16_fields() -> dict[str, str | None]:
    """The CPU's bf16 support, for a benchmark's JSON line."""
    support = bf16_support("cpu")
    return {"cpu": support.name, "cpu_capability": support.capability,
            "bf16_units": support.units or None}  # fmt: skip


def trainer_tokens_per_s(
    task: pl.LightningModule,
    loader: DataLoader,
    warmup: int,
    progress_bar: bool = True,
    precision: str = "32-true",
) -> float:
    """One epoch of `loader` through the Trainer (CSV logging, clipping at 0.25) at
    `precision`; tokens/s after the first `warmup` windows."""
    clock = _Clock(warmup)
    onednn = torch.backends.mkldnn.enabled  # emulated bf16 turns it off: back on after
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_epochs=1,
            accelerator="cpu",
            devices=1,
            gradient_clip_val=0.25,
            logger=pl.loggers.CSVLogger(tmp),
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress_bar,
            num_sanity_val_steps=0,
            log_every_n_steps=50,
            callbacks=[clock],
            precision=precision,
        )
        try:
            trainer.fit(task, train_dataloaders=loader)
        finally:
            torch.backends.mkldnn.enabled = onednn
    return clock.tokens / (clock.stop - clock.start)
