"""Non-monotonically triggered averaged SGD (NT-ASGD, Merity et al. 2018, sec. 3)."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities import rank_zero_info
from torch import Tensor


class NTASGD(Callback):
    """Starts averaging the weights once the monitored validation loss has not improved on the
    best value from before the last `nonmono` checks; from then on validation, checkpoints and
    the final model use the average of the weights after every later step.

    With a plain SGD optimiser this is the paper's switch to ASGD (whose averaging starts at
    the trigger, with no decay term): training itself continues with the same SGD steps. The
    raw weights are kept in the callback's state, so resuming continues exactly.

    Args:
        nonmono: how many recent checks may be worse before averaging starts.
        monitor: the validation metric (lower is better).
    """

    def __init__(self, nonmono: int = 5, monitor: str = "val/loss") -> None:
        self.nonmono, self.monitor = nonmono, monitor
        self.history: list[float] = []
        self.triggered_at: int | None = None  # global step when averaging started
        self.num_averaged = 0
        self.average: dict[str, Tensor] = {}
        self._raw: dict[str, Tensor] | None = None  # the raw weights while the average is in
        self._raw_to_restore: dict[str, Tensor] | None = None

    @property
    def averaging(self) -> bool:
        return self.triggered_at is not None

    def _parameters(self, pl_module: pl.LightningModule) -> dict[str, Tensor]:
        return dict(pl_module.named_parameters())

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        if not self.averaging:
            return
        self.num_averaged += 1
        with torch.no_grad():
            for name, parameter in self._parameters(pl_module).items():
                if name not in self.average:
                    self.average[name] = parameter.detach().clone()
                else:
                    self.average[name] += (parameter - self.average[name]) / self.num_averaged

    def _load(self, pl_module: pl.LightningModule, values: dict[str, Tensor]) -> None:
        parameters = self._parameters(pl_module)
        with torch.no_grad():
            for name, value in values.items():
                parameters[name].copy_(value)

    def _swap_in_average(self, pl_module: pl.LightningModule) -> None:
        if not self.average or self._raw is not None:
            return
        parameters = self._parameters(pl_module)
        self._raw = {name: parameters[name].detach().clone() for name in self.average}
        self._load(pl_module, self.average)

    def _swap_back(self, pl_module: pl.LightningModule) -> None:
        if self._raw is not None:
            self._load(pl_module, self._raw)
            self._raw = None

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_in_average(pl_module)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        recent = self.history[: -self.nonmono] if self.nonmono else self.history
        if not self.averaging and len(self.history) > self.nonmono and value > min(recent):
            self.triggered_at = trainer.global_step
            rank_zero_info(f"NT-ASGD: averaging the weights from step {trainer.global_step}")
        self.history.append(value)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_back(pl_module)  # after the checkpoint callbacks have seen the metric

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """The checkpoint's weights are the average; the raw ones go in this callback's state."""
        if not self.average:
            return
        parameters = self._parameters(pl_module)
        average_of = {id(parameters[name]): value for name, value in self.average.items()}
        # every key of a shared parameter (a tied decoder's too), or loading it back would
        # put the raw value in the shared tensor
        for key, tensor in pl_module.state_dict(keep_vars=True).items():
            if id(tensor) in average_of:
                checkpoint["state_dict"][key] = average_of[id(tensor)].detach().clone()

    def state_dict(self) -> dict[str, Any]:
        raw = None
        if self.average:
            raw = self._raw or {n: p.detach().clone() for n, p in self._module_params.items()}
        return {
            "history": self.history,
            "triggered_at": self.triggered_at,
            "num_averaged": self.num_averaged,
            "average": self.average,
            "raw": raw,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict["history"])
        self.triggered_at = state_dict["triggered_at"]
        self.num_averaged = state_dict["num_averaged"]
        self.average = dict(state_dict["average"])
        self._raw_to_restore = state_dict.get("raw")

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._module_params = self._parameters(pl_module)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Resuming: the checkpoint loaded the average; training continues from the raw weights."""
        if self._raw_to_restore:
            self._load(pl_module, self._raw_to_restore)
            self._raw_to_restore = None

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The trained model is the average."""
        self._swap_back(pl_module)
        self._load(pl_module, self.average)
