"""Every parameter group's learning rate in the run's logs."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import LearningRateMonitor


class LearningRateLogger(LearningRateMonitor):
    """Lightning's `LearningRateMonitor` (each parameter group's rate, e.g. the discriminative
    rates of ULMFiT's layer groups under a slanted triangular schedule, every logged step),
    silent in a run without a logger instead of refusing it."""

    def __init__(self, logging_interval: str | None = "step", **kwargs: Any) -> None:
        super().__init__(logging_interval=logging_interval, **kwargs)  # type: ignore[arg-type]
        self._silent = False

    def on_train_start(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        self._silent = not trainer.loggers
        if not self._silent:
            super().on_train_start(trainer, *args, **kwargs)

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        if not self._silent:
            super().on_train_batch_start(trainer, *args, **kwargs)

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        if not self._silent:
            super().on_train_epoch_start(trainer, *args, **kwargs)
