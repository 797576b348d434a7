"""ULMFiT's gradual unfreezing: the top layer group trains first, more groups at each stage, and
(as fastai's IMDb example does) each stage runs its own slanted triangular cycle."""

from __future__ import annotations

import math

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.strategies import DDPStrategy

from lightning_nlp.nn.layer_groups import layer_groups
from lightning_nlp.training.schedules import slanted_triangular_factor


class GradualUnfreezing(Callback):
    """Trains the top `groups[s]` layer groups of the task's network during stage `s`, which
    lasts `epochs[s]` epochs (the last stage runs to the end of the run); the other groups are
    frozen (no gradient, so the optimiser skips them). Howard & Ruder 2018, sec. 3.3.

    With `lrs`, stage `s` also restarts the learning rate: a slanted triangular cycle over the
    stage's steps peaking at `lrs[s]` for the top group (lower groups divided by the task's
    `lr_decay` per group, as the optimiser's groups were built). Without a restart the lower
    layers, unfrozen late, would start training in a single run-long schedule's low tail.

    Both the frozen groups and the rate are functions of the epoch and step only, applied at
    every batch: a run resumed from a mid-epoch checkpoint trains what the uninterrupted run
    trains (Lightning does not call `on_train_epoch_start` when it resumes mid-epoch).

    The groups are the network's `layer_groups()` (for `AWDLSTMClassifier`: embedding, each
    LSTM layer, head). The default stages are fastai's IMDb classifier's: 1, 2, 3 groups for an
    epoch each, then all of them. Its peak rates (2e-2, 1e-2, 5e-3, 1e-3) are not a default,
    since they belong to its optimiser and sizes: pass them as `lrs` (as
    `configs/ulmfit/imdb_clas.yaml` does); without `lrs` the callback only freezes.

    Args:
        groups: trainable groups (from the top) in each stage; None or 0 means all.
        epochs: epochs of each stage but the last.
        lrs: peak learning rate of the top group in each stage; None keeps the optimiser's
            rate and the task's schedule (freezing only).
        cut_frac, ratio: of each stage's slanted triangular cycle (see `SlantedTriangularLR`).
    """

    def __init__(
        self,
        groups: list[int | None] | None = None,
        epochs: list[int] | None = None,
        lrs: list[float] | None = None,
        cut_frac: float = 0.1,
        ratio: float = 32.0,
    ) -> None:
        self.groups = list(groups) if groups is not None else [1, 2, 3, None]
        self.epochs = list(epochs) if epochs is not None else [1] * (len(self.groups) - 1)
        self.lrs = None if lrs is None else list(lrs)
        if len(self.epochs) < len(self.groups) - 1:
            raise ValueError(f"epochs {self.epochs} must give a length to each stage but the last")
        if self.lrs is not None and len(self.lrs) != len(self.groups):
            raise ValueError(f"lrs {self.lrs} must give one rate per stage ({self.groups})")
        self.cut_frac, self.ratio = cut_frac, ratio
        self._scales: list[float] | None = None

    def stage_at(self, epoch: int) -> int:
        """The stage that `epoch` (0-based) belongs to."""
        end = 0
        for stage, length in enumerate(self.epochs[: len(self.groups) - 1]):
            end += length
            if epoch < end:
                return stage
        return len(self.groups) - 1

    def trainable_groups(self, epoch: int, num_groups: int) -> int:
        wanted = self.groups[self.stage_at(epoch)]
        return num_groups if not wanted else min(num_groups, wanted)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # Under DDP the frozen groups give no gradient, which DDP's reducer refuses unless told
        # to expect unused parameters; it must be told before it wraps the model (after this
        # hook). Every parameter still requires a gradient then, so each group, once unfrozen,
        # has its gradient averaged over the ranks. Lightning has no public setter for this.
        strategy = trainer.strategy
        if isinstance(strategy, DDPStrategy) and stage == "fit":
            strategy._ddp_kwargs["find_unused_parameters"] = True

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.lrs is not None and trainer.lr_scheduler_configs:
            raise ValueError(
                "GradualUnfreezing(lrs=...) sets the learning rate of each stage itself: "
                "configure the task without an lr_scheduler"
            )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        top = optimizer.param_groups[-1]["lr"]  # the optimiser's groups hold lr / decay**k
        self._scales = [group["lr"] / top for group in optimizer.param_groups]
        self._apply(trainer, pl_module)

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: object
    ) -> None:
        self._apply(trainer, pl_module)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        groups = layer_groups(pl_module.network)
        trainable = self.trainable_groups(trainer.current_epoch, len(groups))
        pl_module.log("trainable_groups", float(trainable), on_step=False, on_epoch=True)

    def _apply(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        groups = layer_groups(pl_module.network)
        trainable = self.trainable_groups(epoch, len(groups))
        for i, group in enumerate(groups):
            for parameter in group:
                parameter.requires_grad_(i >= len(groups) - trainable)
        if self.lrs is None:
            return
        stage = self.stage_at(epoch)
        per_epoch = max(
            1, math.ceil(trainer.num_training_batches / trainer.accumulate_grad_batches)
        )
        first = sum(self.epochs[:stage])
        last = trainer.max_epochs if stage == len(self.groups) - 1 else first + self.epochs[stage]
        steps = max(1, (last - first) * per_epoch)
        position = trainer.global_step - first * per_epoch
        factor = slanted_triangular_factor(position, steps, self.cut_frac, self.ratio)
        for group, scale in zip(trainer.optimizers[0].param_groups, self._scales or []):
            group["lr"] = self.lrs[stage] * scale * factor
