"""Training a recurrent language model with truncated BPTT."""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from lightning_nlp.nn.recurrent_state import LMOutput, State, detach_state, state_batch_size
from lightning_nlp.tasks.base import Task, export_model_folder
from lightning_nlp.training.metrics.perplexity import Perplexity

log = logging.getLogger(__name__)
STAGES = ("train", "val", "test")
TRAIN_STATE_KEY = "lightning_nlp_train_state"


class LanguageModelTask(Task):
    """Next-token cross-entropy over contiguous BPTT windows, hidden state carried and detached.

    The hidden state runs on from one batch to the next (batches are consecutive windows of
    the same rows) and is detached so gradients stop at the window edge. Each stage keeps
    its own state, zeroed at the start of every epoch or evaluation run. Each training step's
    learning rate is scaled by its window length over the data module's nominal `bptt`
    (AWD-LSTM, Merity et al. 2018): with variable-length windows, a short window would
    otherwise weigh as much as a long one. At the end of `fit` the weights are also saved as
    a model folder, `<run>/pretrained` (see `lightning_nlp.weights.pretrained`).

    Args:
        network: the language model, `forward(tokens, hidden) -> LMOutput`; its
            `vocab_size` is linked from the data module by the CLI.
        ar_alpha: activation regularisation, alpha * mean(dropped output^2) (needs a network
            that returns `dropped`, like AWD-LSTM).
        tar_beta: temporal activation regularisation, beta * mean((h_t - h_{t-1})^2) on the
            raw output.
        scale_lr_by_window: scale the learning rate by window length / `datamodule.bptt`.
        pretrained: a model folder (from `fit` or `lightning-nlp convert`) whose weights start
            training, re-indexed to this data module's vocabulary; it must match the network
            tensor for tensor (layers, widths).
        pretrained_partial: load only the `pretrained` tensors that fit, and leave the
            network's others random (they are named in a warning), instead of refusing.
        optimizer, lr_scheduler, lr_decay, checkpoint_every_n_steps: see `Task`.
    """

    monitor, mode = "val/ppl", "min"
    checkpoint_filename = "best-epoch{epoch}-ppl{val/ppl:.1f}"

    def __init__(
        self,
        network: nn.Module,
        ar_alpha: float = 0.0,
        tar_beta: float = 0.0,
        scale_lr_by_window: bool = True,
        pretrained: str | None = None,
        pretrained_partial: bool = False,
        optimizer: OptimizerCallable = torch.optim.Adam,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_decay: float | None = None,
        checkpoint_every_n_steps: int | None = None,
    ) -> None:
        super().__init__(network, optimizer, lr_scheduler, lr_decay, checkpoint_every_n_steps)
        self.save_task_hyperparameters()
        self.ppl = torch.nn.ModuleDict({f"{stage}_ppl": Perplexity() for stage in STAGES})
        self._hidden: dict[str, State | None] = dict.fromkeys(STAGES)
        self._window_scale = 1.0  # this training step's window length over the nominal bptt

    def forward(self, tokens: Tensor, hidden: State | None = None) -> LMOutput:
        return self.network(tokens, hidden)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit" and self.hparams.pretrained and not self._pretrained_loaded:
            self.load_pretrained(self.hparams.pretrained, self.trainer.datamodule)

    def _step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        tokens, targets = batch  # (B, T), (B, T)
        hidden = self._hidden[stage]
        if hidden is not None and state_batch_size(hidden) != tokens.shape[0]:
            hidden = None  # a different number of rows: no state to carry
        output = self.network(tokens, hidden)  # logits (B, T, V)
        self._hidden[stage] = detach_state(output.hidden, self.dtype)  # bf16 kernels: cast back
        loss = F.cross_entropy(output.logits.flatten(0, 1).float(), targets.flatten())
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
        if stage == "train":
            loss = loss + self.activation_regularisation(output)
        return loss

    def activation_regularisation(self, output: LMOutput) -> Tensor | float:
        """AR + TAR (Merity et al. 2018, sec. 4.6); 0 when both are off."""
        hp = self.hparams
        if not hp.ar_alpha and not hp.tar_beta:
            return 0.0
        if output.raw is None or output.dropped is None:
            raise ValueError(
                f"ar_alpha/tar_beta need a network that returns its raw and dropped outputs; "
                f"{type(self.network).__name__} does not"
            )
        dropped, raw = output.dropped.float(), output.raw.float()
        ar = dropped.pow(2).mean()
        tar = (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        return hp.ar_alpha * ar + hp.tar_beta * tar

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self._hidden["train"] = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keeps the training state carried from window to window, for a mid-epoch resume:
        under DDP every rank's (each carries its own rows), gathered along a first dim."""
        super().on_save_checkpoint(checkpoint)
        state, ranks = self._hidden["train"], self.trainer.world_size if self._trainer else 1
        if ranks > 1 and state is not None:  # every rank saves: a collective is safe here
            state = tree_map(lambda t: self.all_gather(t) if isinstance(t, Tensor) else t, state)
        checkpoint[TRAIN_STATE_KEY] = {"ranks": ranks, "state": state}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get(TRAIN_STATE_KEY) or {"ranks": 1, "state": None}
        rank, ranks = (self.global_rank, self.trainer.world_size) if self._trainer else (0, 1)
        state = saved["state"]
        if state is not None and saved["ranks"] != ranks:
            log.warning(
                "the checkpoint's carried LM state is of %d rank(s), this run has %d: the "
                "resumed epoch starts its rows from a zero state",
                saved["ranks"],
                ranks,
            )
            state = None
        elif state is not None and ranks > 1:
            state = tree_map(lambda t: t[rank] if isinstance(t, Tensor) else t, state)
        self._hidden["train"] = state

    def on_train_start(self) -> None:
        super().on_train_start()
        # a state loaded from a checkpoint lies on the CPU
        self._hidden["train"] = detach_state(self._hidden["train"], self.dtype, self.device)

    def on_validation_epoch_start(self) -> None:
        self._hidden["val"] = None

    def on_test_epoch_start(self) -> None:
        self._hidden["test"] = None

    def on_train_batch_start(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        super().on_train_batch_start(batch, batch_idx)
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

    def on_fit_end(self) -> None:
        export_model_folder(self)
