"""Train for a wall-clock budget, with the learning-rate schedule fitted to it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities import rank_zero_info

from lightning_nlp.training.schedules import SlantedTriangularLR


class TimeBudget(Callback):
    """Ends training after about `minutes` of wall time, and stretches or shrinks the run's
    `SlantedTriangularLR` to the steps that fit, so the rate has fallen
    to its floor when the time is up. `Trainer(max_time=...)` instead cuts a schedule short.

    After `warmup_steps` steps it measures the time per step and plans the total; after each
    validation it plans again, counting validation's share of the time, and keeps time for
    the last validation, which runs when the plan's last step stops the run. Set
    `trainer.max_epochs` high enough (e.g. -1): the budget, not the epochs, ends the run. The
    plan is saved in checkpoints: a resumed run keeps it and does not plan again, so it
    follows the schedule of the interrupted one.

    Args:
        minutes: wall time of the fit, from its first training step to the end of its last
            validation.
        warmup_steps: steps timed before the first plan (the first steps are slow).
    """

    plans_schedule = True  # the task leaves the schedule's length to this callback

    def __init__(self, minutes: float, warmup_steps: int = 50) -> None:
        if minutes <= 0 or warmup_steps < 1:
            raise ValueError("TimeBudget needs minutes > 0 and warmup_steps >= 1")
        self.seconds, self.warmup_steps = minutes * 60.0, warmup_steps
        self.planned_steps: int | None = None  # global step at which training stops
        self._clock: Callable[[], float] = time.monotonic
        self._resumed = False
        self._start: float | None = None
        self._first_step = 0
        self._last_validation = 0.0
        self._validation_began: float | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start, self._first_step = self._clock(), trainer.global_step
        if self._resumed:
            self._set_schedule_length(trainer, self.planned_steps)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        steps = trainer.global_step - self._first_step
        if self.planned_steps is None and steps >= self.warmup_steps:
            self._plan(trainer)
        if self.planned_steps is not None and trainer.global_step >= self.planned_steps:
            trainer.should_stop = True  # Lightning validates once more, then stops

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validation_began = self._clock()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or self._validation_began is None:
            return
        self._last_validation = self._clock() - self._validation_began
        self._validation_began = None
        if not trainer.should_stop and trainer.global_step > self._first_step:
            self._plan(trainer)

    def _plan(self, trainer: pl.Trainer) -> None:
        if self._resumed or self._start is None:
            return
        elapsed = self._clock() - self._start
        steps = trainer.global_step - self._first_step
        per_step = elapsed / max(1, steps)  # training and its share of validation so far
        left = self.seconds - elapsed - self._last_validation
        planned = trainer.global_step + max(1, int(left / per_step))
        planned = trainer.strategy.broadcast(planned, src=0)  # DDP ranks stop at one step
        if planned != self.planned_steps:
            rank_zero_info(
                f"TimeBudget: {per_step * 1000:.0f} ms a step, {elapsed:.0f} s used of "
                f"{self.seconds:.0f} s: training stops after step {planned}"
            )
        self.planned_steps = planned
        self._set_schedule_length(trainer, planned)

    @staticmethod
    def _set_schedule_length(trainer: pl.Trainer, total: int) -> None:
        for config in trainer.lr_scheduler_configs:
            if isinstance(config.scheduler, SlantedTriangularLR):
                config.scheduler.total_steps = total

    def state_dict(self) -> dict[str, Any]:
        return {"planned_steps": self.planned_steps}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.planned_steps = state_dict["planned_steps"]
        self._resumed = self.planned_steps is not None
