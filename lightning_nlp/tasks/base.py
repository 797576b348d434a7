"""What every task shares: optimiser and schedule from the config, best and last checkpoints
on the task's own metric, and checkpoints that say which task and vocabulary wrote them."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from lightning_fabric.utilities.distributed import DistributedSamplerWrapper
from pytorch_lightning.callbacks import Callback, ModelCheckpoint
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch.optim.lr_scheduler import ReduceLROnPlateau

from lightning_nlp.checkpoints import META_KEY, check_task, data_state, task_name
from lightning_nlp.loggers import run_dir

PLATEAU_MONITOR = "val/loss"  # what a ReduceLROnPlateau schedule watches (mode "min")


class Task(pl.LightningModule):
    """Base of the project's LightningModules.

    Subclasses set `monitor`, `mode` and `checkpoint_filename`: the run keeps `last.ckpt` and
    the best checkpoint by that metric in `<run folder>/checkpoints`, unless the Trainer was
    given a ModelCheckpoint of its own (which is then kept as configured).
    """

    monitor = "val/loss"
    mode = "min"
    checkpoint_filename = "best-epoch{epoch}"

    def __init__(
        self, optimizer: OptimizerCallable, lr_scheduler: LRSchedulerCallable | None = None
    ) -> None:
        super().__init__()
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler

    def configure_callbacks(self) -> list[Callback]:
        configured = self.trainer.checkpoint_callback
        if configured is None or not _is_lightning_default(configured):
            return []  # checkpointing off, or set up by the user: leave it as it is
        checkpoint = ModelCheckpoint(
            dirpath=run_dir(self.trainer) / "checkpoints",
            filename=self.checkpoint_filename,
            auto_insert_metric_name=False,
            monitor=self.monitor,
            mode=self.mode,
            save_last=True,
        )
        return [checkpoint]

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer([p for p in self.parameters() if p.requires_grad])
        if self.lr_scheduler is None:
            return optimizer
        scheduler = self.lr_scheduler(optimizer)
        config: dict[str, Any] = {"scheduler": scheduler}
        if isinstance(scheduler, ReduceLROnPlateau):  # LightningCLI's subclass names its own
            config["monitor"] = getattr(scheduler, "monitor", PLATEAU_MONITOR)
        return {"optimizer": optimizer, "lr_scheduler": config}

    def on_train_start(self) -> None:
        sampler = getattr(self.trainer.train_dataloader, "sampler", None)
        if isinstance(sampler, DistributedSamplerWrapper):
            raise RuntimeError(
                "the project's samplers split the data by rank themselves: build the Trainer "
                "with use_distributed_sampler=False (the CLI does), or each rank sees a fraction "
                "of its share"
            )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[META_KEY] = {"task": task_name(type(self))}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Refuses another task's checkpoint, and lets the data module refuse a checkpoint of
        another vocabulary before the weights are loaded (whose size error would say less)."""
        check_task(checkpoint, type(self), "the checkpoint")
        try:
            datamodule = self.trainer.datamodule
        except RuntimeError:  # loaded outside a Trainer
            return
        state = data_state(checkpoint)
        if datamodule is not None and state is not None:
            datamodule.load_state_dict(state)


def _is_lightning_default(checkpoint: ModelCheckpoint) -> bool:
    """True for the ModelCheckpoint the Trainer adds when none was configured."""
    default = ModelCheckpoint()
    settings = ("dirpath", "filename", "monitor", "save_top_k", "save_last", "every_n_epochs")
    settings += ("_every_n_train_steps", "_train_time_interval", "save_weights_only")
    return all(getattr(checkpoint, s, None) == getattr(default, s, None) for s in settings)
