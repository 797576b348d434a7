"""Pretraining a bidirectional language model (ELMo) on sentence batches."""

from __future__ import annotations

import torch
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from lightning_nlp.data.sentences.datamodule import SentenceBatch
from lightning_nlp.tasks.base import Task, export_model_folder
from lightning_nlp.training.metrics.perplexity import Perplexity

STAGES = ("train", "val", "test")
DIRECTIONS = ("fwd", "bwd")


class BiLMTask(Task):
    """Sum of the forward (next-word) and backward (previous-word) losses.

    Logs `{stage}/ppl_fwd`, `{stage}/ppl_bwd` and `{stage}/ppl` (their geometric mean, the
    monitored value). At the end of `fit` the network is saved as a model folder,
    `<run>/pretrained`, which `lightning_nlp.weights.elmo.load_bilm` (and so the ELMo classifier's
    `elmo_weights`) reads.

    Args:
        network: a `BiLMLanguageModel`, `forward(chars, targets) -> BiLMLoss`; its
            `vocab_size` is linked from the data module by the CLI.
        optimizer, lr_scheduler: see `Task`.
    """

    monitor, mode = "val/ppl", "min"
    checkpoint_filename = "best-epoch{epoch}-ppl{val/ppl:.1f}"

    def __init__(
        self,
        network: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        lr_scheduler: LRSchedulerCallable | None = None,
        checkpoint_every_n_steps: int | None = None,
    ) -> None:
        """`optimizer`, `lr_scheduler`, `checkpoint_every_n_steps`: see `Task`."""
        super().__init__(network, optimizer, lr_scheduler, None, checkpoint_every_n_steps)
        self.save_task_hyperparameters()
        self.ppl = nn.ModuleDict(
            {f"{s}_{d}": Perplexity() for s in STAGES for d in (*DIRECTIONS, "both")}
        )

    def _step(self, batch: SentenceBatch, stage: str) -> Tensor:
        losses = self.network(batch.chars, batch.targets)
        loss = losses.forward + losses.backward
        n = losses.num_tokens
        for direction, value in zip(DIRECTIONS, losses[:2]):
            self.ppl[f"{stage}_{direction}"].update(value, n)
        self.ppl[f"{stage}_both"].update(loss / 2, n)
        on_step = stage == "train"
        self.log(
            f"{stage}/loss",
            loss,
            on_step=on_step,
            on_epoch=True,
            prog_bar=on_step,
            batch_size=n,
            sync_dist=not on_step,
        )
        for name, key in (("ppl_fwd", "fwd"), ("ppl_bwd", "bwd"), ("ppl", "both")):
            self.log(
                f"{stage}/{name}",
                self.ppl[f"{stage}_{key}"],
                on_step=False,
                on_epoch=True,
                prog_bar=name == "ppl",
            )
        return loss

    def training_step(self, batch: SentenceBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "train") * batch.loss_scale  # a mean over the step under DDP

    def validation_step(self, batch: SentenceBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: SentenceBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "test")

    def on_fit_end(self) -> None:
        export_model_folder(self)
