"""What every task shares: a network from the config, optimiser and schedule (with
discriminative learning rates), best and last checkpoints on the task's own metric, and
checkpoints that say which task and vocabulary wrote them."""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.utilities.distributed import DistributedSamplerWrapper
from pytorch_lightning.callbacks import Callback, ModelCheckpoint
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from pytorch_lightning.utilities import rank_zero_only
from torch import nn
from torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau
from torchmetrics import Metric

from lightning_nlp.nn.init_args import network_config
from lightning_nlp.nn.layer_groups import layer_groups
from lightning_nlp.training.loggers import run_dir
from lightning_nlp.training.precision import check_bf16, emulated_bf16_kernels
from lightning_nlp.training.schedules import STEP_SCHEDULES
from lightning_nlp.weights.checkpoints import (
    META_KEY,
    build_network,
    check_task,
    data_state,
    task_name,
)

log = logging.getLogger(__name__)
EXPORT_FOLDER = "pretrained"  # inside the run folder: the final weights as a model folder
PLATEAU_MONITOR = "val/loss"  # what a ReduceLROnPlateau schedule watches (mode "min")


def fresh_metric_states(module: nn.Module) -> None:
    """Resets every torchmetrics `Metric` in `module`, which replaces its state tensors by new
    ones. Under `ddp_spawn` the task reaches each rank pickled through shared memory, and
    Lightning un-shares parameters and buffers but not metric states: without this, all ranks
    (and the parent) add into the same tensors, and two ranks adding at once can lose a batch
    (a DDP test perplexity of 18.9 against 21.0 came from that)."""
    for metric in module.modules():
        if isinstance(metric, Metric):
            metric.reset()


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


class StepCheckpoint(ModelCheckpoint):
    """`last.ckpt` every N training steps, except at an epoch's last batch: written there, before
    the epoch's validation, a run resumed from it would never run that validation (Lightning
    counts the epoch as done); the epoch's own `last.ckpt` follows the validation."""

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        if not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            super().on_train_batch_end(trainer, *args, **kwargs)


class EndEmulationOnError(Callback):
    """A run that stops on an error does not reach `teardown`: its bf16 emulation (if any)
    ends here, so later runs in the process get oneDNN back."""

    def on_exception(self, trainer: pl.Trainer, pl_module: Task, exception: BaseException) -> None:
        pl_module._emulation.close()


class Task(pl.LightningModule):
    """Base of the project's LightningModules; `self.network` is a plain `nn.Module`.

    Subclasses set `monitor`, `mode` and `checkpoint_filename`: the run keeps `last.ckpt` and
    the best checkpoint by that metric in `<run folder>/checkpoints`, unless the Trainer was
    given a ModelCheckpoint of its own (which is then kept as configured).

    Args:
        network: the model (from the config: `class_path` and `init_args`).
        optimizer: builds the optimiser from parameter groups.
        lr_scheduler: optional schedule; `SlantedTriangularLR` is stepped every step and told
            the run's length, others every epoch (ReduceLROnPlateau watches `val/loss`).
        lr_decay: discriminative learning rates (ULMFiT): with the network's layer groups
            bottom to top, the top group gets the optimiser's lr and each lower group the one
            above divided by `lr_decay`. None: one lr for all.
        checkpoint_every_n_steps: also write `last.ckpt` every this many training steps, so
            that a long epoch interrupted can be resumed from its middle.
    """

    monitor = "val/loss"
    mode = "min"
    checkpoint_filename = "best-epoch{epoch}"

    def __init__(
        self,
        network: nn.Module,
        optimizer: OptimizerCallable,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_decay: float | None = None,
        checkpoint_every_n_steps: int | None = None,
    ) -> None:
        super().__init__()
        self.network = build_network(network)
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.lr_decay = lr_decay
        self.checkpoint_every_n_steps = checkpoint_every_n_steps
        self._pretrained_loaded = False
        self._emulation = contextlib.ExitStack()

    def setup(self, stage: str) -> None:
        """Refuses bf16 on hardware without bf16 units before any step runs (or, where the
        emulation is asked for, emulates it for this run only), and gives every metric state
        tensors of this process's own (`fresh_metric_states`)."""
        if check_bf16(self.trainer.precision, self.trainer.strategy.root_device.type):
            self._emulation.enter_context(emulated_bf16_kernels())  # until teardown
        fresh_metric_states(self)

    def teardown(self, stage: str) -> None:
        """Ends the bf16 emulation this run asked for: later runs in the process (the stages
        of `ulmfit`, `compare`, a notebook) get oneDNN back."""
        self._emulation.close()

    pretrained_prefix = ""  # which of a model folder's weights `pretrained` loads ("": all)

    def load_pretrained(self, folder: str, datamodule: Any) -> None:
        """Copies a model folder's weights (under `pretrained_prefix`) into the network,
        re-indexed to the data module's vocabulary; once, before training starts. A folder
        that lacks some of the network's tensors there (or has others, or other shapes) is
        refused, by name, unless the task's `pretrained_partial` hyperparameter asks to load
        what fits and leave the rest random (see `transfer_weights`)."""
        from lightning_nlp.weights.pretrained import load_pretrained, transfer_weights

        hp = datamodule.hparams
        stats = transfer_weights(
            self.network,
            load_pretrained(folder),
            datamodule.vocab,
            hp.tokenizer,
            hp.get("backwards", False),
            self.pretrained_prefix,
            partial=bool(self.hparams.get("pretrained_partial", False)),
        )
        self._pretrained_loaded = True
        log.info("pretrained weights from %s: %s", folder, stats)
        if self.logger is not None:
            self.logger.log_hyperparams(stats)

    def save_task_hyperparameters(self) -> None:
        """Saves the calling `__init__`'s arguments, the network as its config (a checkpoint
        then rebuilds it without unpickling a module)."""
        frame = inspect.currentframe().f_back  # the subclass's __init__
        self.save_hyperparameters(ignore=["network", "optimizer", "lr_scheduler"], frame=frame)
        self.hparams["network"] = network_config(self.network)

    def configure_callbacks(self) -> list[Callback]:
        configured = self.trainer.checkpoint_callback
        if configured is None or not _is_lightning_default(configured):
            return [EndEmulationOnError()]  # checkpointing off, or the user's: left as it is
        folder = run_dir(self.trainer) / "checkpoints"
        best = ModelCheckpoint(
            dirpath=folder,
            filename=self.checkpoint_filename,
            auto_insert_metric_name=False,
            monitor=self.monitor,
            mode=self.mode,
        )
        # `last.ckpt`, the latest state after every validation, to resume from; Lightning's
        # own `save_last` (2.6) writes it only when the best one changes
        last = ModelCheckpoint(dirpath=folder, filename="last", enable_version_counter=False)
        if not self.checkpoint_every_n_steps:
            return [best, last, EndEmulationOnError()]
        # long epochs: `last.ckpt` also every N steps, to resume mid-epoch (Lightning allows
        # one trigger per callback)
        steps = StepCheckpoint(
            dirpath=folder,
            filename="last",
            enable_version_counter=False,
            every_n_train_steps=self.checkpoint_every_n_steps,
        )
        return [best, last, steps, EndEmulationOnError()]

    def parameter_groups(self) -> list[dict[str, Any]]:
        """One group per layer group when `lr_decay` is set, else one group of everything."""
        if self.lr_decay is None:
            return [{"params": list(self.parameters())}]
        groups = layer_groups(self.network)
        grouped = {id(p) for group in groups for p in group}
        rest = [p for p in self.parameters() if id(p) not in grouped]  # outside the network
        if rest:
            groups[-1] = groups[-1] + rest
        return [{"params": group} for group in groups]

    def configure_optimizers(self) -> Any:
        groups = self.parameter_groups()
        optimizer = self.optimizer(groups)
        scales = [1.0] * len(optimizer.param_groups)
        if self.lr_decay is not None:
            top = len(optimizer.param_groups) - 1
            scales = [self.lr_decay ** -(top - i) for i in range(top + 1)]
            for group, scale in zip(optimizer.param_groups, scales):
                group["lr"] *= scale
        if self.lr_scheduler is None:
            return optimizer
        scheduler = self.lr_scheduler(optimizer)
        if isinstance(scheduler, OneCycleLR):  # it set one max_lr for all groups: scale each
            for group, scale in zip(optimizer.param_groups, scales):
                for key in ("lr", "initial_lr", "max_lr", "min_lr"):
                    group[key] *= scale
        config: dict[str, Any] = {"scheduler": scheduler}
        if isinstance(scheduler, STEP_SCHEDULES + (OneCycleLR,)):
            config["interval"] = "step"
            if getattr(scheduler, "total_steps", 0) is None:
                scheduler.total_steps = self._schedule_length()
        if isinstance(scheduler, ReduceLROnPlateau):  # LightningCLI's subclass names its own
            config["monitor"] = getattr(scheduler, "monitor", PLATEAU_MONITOR)
        return {"optimizer": optimizer, "lr_scheduler": config}

    def _schedule_length(self) -> int | None:
        """Steps of the whole run for a step schedule; None when a callback that plans the run
        (`TimeBudget`) will set it."""
        total = self.trainer.estimated_stepping_batches
        if math.isfinite(total):
            return int(total)
        if any(getattr(c, "plans_schedule", False) for c in self.trainer.callbacks):
            return None
        raise ValueError(
            "a step schedule needs a run of known length: set trainer.max_epochs or "
            "trainer.max_steps, or add lightning_nlp.training.callbacks.time_budget.TimeBudget"
        )

    def on_train_epoch_start(self) -> None:
        """Makes an epoch depend only on the run's seed and the epoch number, not on what ran
        before it, so that a run resumed from a checkpoint continues exactly as the run that
        was never stopped: the samplers get the epoch (Lightning, resuming from a checkpoint
        written at an epoch's end, hands them the previous one); see also
        `on_train_batch_start` and `ResumableLoader` (resuming mid-epoch)."""
        loader = self._trainer.train_dataloader if self._trainer is not None else None
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self.current_epoch)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """Reseeds the random generators (dropout masks) from the run's seed, the epoch and
        the batch, so that a resumed run, from an epoch's end or from the middle of one, draws
        the masks of the run that was never stopped."""
        seed = os.environ.get("PL_GLOBAL_SEED")
        if seed is not None:
            workers = os.environ.get("PL_SEED_WORKERS", "0")
            step_seed = (
                (int(seed) * 1_000_003 + self.current_epoch) * 1_000_033 + batch_idx
            ) % 2**32
            pl.seed_everything(step_seed, workers=workers == "1", verbose=False)
            os.environ["PL_GLOBAL_SEED"] = seed  # seed_everything records its argument

    def on_before_backward(self, loss: torch.Tensor) -> None:
        """Stops the run at a non-finite loss, before it reaches the weights: the checkpoints
        on disk stay the last good ones. Under DDP the ranks decide together (one scalar
        all-reduce a step), so every rank stops with the message instead of the others
        waiting in the next all-reduce until it times out."""
        finite = bool(torch.isfinite(loss.detach()).all())
        if self.trainer.world_size > 1:
            finite = self.trainer.strategy.reduce_boolean_decision(finite, all=True)
        if not finite:
            last = run_dir(self.trainer) / "checkpoints" / "last.ckpt"
            kept = f"the last good checkpoint is {last}" if last.is_file() else "no checkpoint yet"
            where = "" if self.trainer.world_size == 1 else " on at least one rank"
            value = "non-finite" if torch.isfinite(loss.detach()).all() else f"{float(loss):.4g}"
            raise TrainingDiverged(
                f"the training loss is {value}{where} at step {self.global_step} (epoch "
                f"{self.current_epoch}); the run stops here and {kept}. Lower the learning "
                "rate or clip gradients (--trainer.gradient_clip_val) and resume from it"
            )

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


@rank_zero_only
def export_model_folder(task: Task, labels: list[str] | None = None) -> None:
    """Saves the task's network with its data module's vocabulary as the model folder
    `<run folder>/pretrained`."""
    from lightning_nlp.weights.pretrained import save_pretrained

    folder = run_dir(task.trainer) / EXPORT_FOLDER
    datamodule = task.trainer.datamodule
    if datamodule is None or not hasattr(datamodule, "vocab"):
        return
    hp = datamodule.hparams
    save_pretrained(
        folder,
        task.network,
        datamodule.vocab,
        hp.tokenizer,
        hp.get("backwards", False),
        labels,
        hp.get("max_len"),
    )
    log.info("model folder saved: %s", folder)
