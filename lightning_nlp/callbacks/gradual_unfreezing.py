"""ULMFiT's gradual unfreezing: train the top layer group first, one more group each epoch."""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from lightning_nlp.tasks.base import layer_groups


class GradualUnfreezing(Callback):
    """At each epoch start, the top `start + epoch * groups_per_epoch` layer groups of the
    task's network train and the others are frozen (Howard & Ruder 2018, sec. 3.3).

    The groups are the network's `layer_groups()` (for `AWDLSTMClassifier`: embedding, each
    LSTM layer, head). Frozen parameters get no gradient, so the optimiser skips them.

    Args:
        start: groups trained in the first epoch.
        groups_per_epoch: groups unfrozen at each later epoch.
    """

    def __init__(self, start: int = 1, groups_per_epoch: int = 1) -> None:
        self.start, self.groups_per_epoch = start, groups_per_epoch

    def trainable_groups(self, epoch: int, num_groups: int) -> int:
        return min(num_groups, self.start + epoch * self.groups_per_epoch)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        groups = layer_groups(pl_module.network)
        trainable = self.trainable_groups(trainer.current_epoch, len(groups))
        for i, group in enumerate(groups):
            for parameter in group:
                parameter.requires_grad_(i >= len(groups) - trainable)
        pl_module.log("trainable_groups", float(trainable), on_step=False, on_epoch=True)
