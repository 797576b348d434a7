"""Training a recurrent language model with truncated BPTT."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from lightning_nlp.metrics.perplexity import Perplexity
from lightning_nlp.nn.lstm_lm import Hidden, LSTMLanguageModel
from lightning_nlp.tasks.base import Task

STAGES = ("train", "val", "test")


class LanguageModelTask(Task):
    """Next-token cross-entropy over contiguous BPTT windows, hidden state carried and detached.

    The hidden state runs on from one batch to the next (batches are consecutive windows of
    the same rows) and is detached so gradients stop at the window edge. Each stage keeps
    its own state, zeroed at the start of every epoch or evaluation run. Each training step's
    learning rate is scaled by its window length over the data module's nominal `bptt`
    (AWD-LSTM, Merity et al. 2018): with variable-length windows, a short window would
    otherwise weigh as much as a long one.

    Args:
        vocab_size: V, linked from the data module by the CLI.
        embed_dim, hidden_dim, num_layers, dropout, tie_weights: see `LSTMLanguageModel`.
        scale_lr_by_window: scale the learning rate by window length / `datamodule.bptt`.
        optimizer: builds the optimiser from the parameters (default Adam, lr 1e-3).
        lr_scheduler: optional schedule, stepped every epoch (ReduceLROnPlateau watches
            `val/loss`).
    """

    monitor, mode = "val/ppl", "min"
    checkpoint_filename = "best-epoch{epoch}-ppl{val/ppl:.1f}"

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 512,
        hidden_dim: int = 512,
        num_layers: int = 2,
        dropout: float = 0.5,
        tie_weights: bool = True,
        scale_lr_by_window: bool = True,
        optimizer: OptimizerCallable = torch.optim.Adam,
        lr_scheduler: LRSchedulerCallable | None = None,
    ) -> None:
        super().__init__(optimizer, lr_scheduler)
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"])
        self.model = LSTMLanguageModel(
            vocab_size, embed_dim, hidden_dim, num_layers, dropout, tie_weights
        )
        self.ppl = torch.nn.ModuleDict({f"{stage}_ppl": Perplexity() for stage in STAGES})
        self._hidden: dict[str, Hidden | None] = dict.fromkeys(STAGES)
        self._window_scale = 1.0  # this training step's window length over the nominal bptt

    def forward(self, tokens: Tensor, hidden: Hidden | None = None) -> Any:
        return self.model(tokens, hidden)

    def _step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        tokens, targets = batch  # (B, T), (B, T)
        hidden = self._hidden[stage]
        if hidden is not None and hidden[0].shape[1] != tokens.shape[0]:
            hidden = None  # a different number of rows: no state to carry
        logits, hidden = self.model(tokens, hidden)  # (B, T, V)
        self._hidden[stage] = tuple(state.detach() for state in hidden)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        self.ppl[f"{stage}_ppl"].update(loss, targets.numel())
        on_step = stage == "train"
        self.log(
            f"{stage}/loss",
            loss,
            on_step=on_step,
            on_epoch=True,
            prog_bar=on_step,
            batch_size=targets.numel(),
            sync_dist=not on_step,
        )
        self.log(
            f"{stage}/ppl", self.ppl[f"{stage}_ppl"], on_step=False, on_epoch=True, prog_bar=True
        )
        return loss

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        self._hidden["train"] = None

    def on_validation_epoch_start(self) -> None:
        self._hidden["val"] = None

    def on_test_epoch_start(self) -> None:
        self._hidden["test"] = None

    def on_train_batch_start(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        bptt = getattr(self.trainer.datamodule, "bptt", None)
        if self.hparams.scale_lr_by_window and bptt:
            self._window_scale = batch[0].shape[1] / bptt

    def optimizer_step(
        self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None
    ) -> None:
        """Steps with the learning rate scaled by this window's length over `bptt`."""
        scale = self._window_scale
        for group in optimizer.param_groups:
            group["lr"] *= scale
        try:
            super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        finally:
            for group in optimizer.param_groups:
                group["lr"] /= scale
