"""Training and evaluating a text classifier on padded, length-sorted batches."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_lightning.callbacks import Callback, EarlyStopping
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from pytorch_lightning.utilities import rank_zero_info
from torch import Tensor, nn
from torchmetrics import MeanMetric

from lightning_nlp.data.classification.dataset import TextBatch
from lightning_nlp.data.text.io import atomic_path, atomic_write_bytes, atomic_write_text
from lightning_nlp.tasks.base import Task, export_model_folder
from lightning_nlp.training.loggers import run_dir
from lightning_nlp.training.metrics.classification import (
    classification_metrics,
    classification_report,
    confusion_matrix,
    plot_confusion_matrix,
)

log = logging.getLogger(__name__)
STAGES = ("train", "val", "test")
TEST_PROBABILITIES = "test_probabilities.npz"  # index, probs (N, C), labels (N,)


class TextClassifierTask(Task):
    """Cross-entropy over class logits; metrics under `train/`, `val/`, `test/`.

    At test end it logs the confusion matrix as a figure (W&B image and PNG in the log
    folder) and a per-class report, and keeps every test document's class probabilities in
    `test_probabilities.npz` (for ensembles). Pretrained vectors or a pretrained encoder are loaded when
    fitting starts, for the data module's vocabulary; the checkpoint then holds them like any
    other weight. At the end of `fit` the network is also saved as a model folder,
    `<run>/pretrained` (with the label names).

    Args:
        network: the classifier, `forward(tokens, lengths) -> logits`; its `vocab_size`,
            `num_classes` and `pad_id` are linked from the data module by the CLI.
        pretrained: a language model's folder (from `fit` or `lightning-nlp convert`) whose
            encoder weights (`encoder.*`) start training, re-indexed to this vocabulary. Its
            encoder must match the network's, tensor for tensor (layers, widths).
        pretrained_partial: load only the `pretrained` tensors that fit, and leave the
            network's other encoder tensors random (they are named in a warning), instead of
            refusing a folder whose encoder differs.
        vectors: word-vector file or gensim downloader name (see `lightning_nlp.weights.vectors`),
            copied into `network.embedding`.
        vectors_format: the file's format, "auto" to guess from the name.
        freeze_embeddings: keep pretrained embeddings fixed.
        early_stopping_patience: stop after this many validations without a better `val/acc`
            (None: never), unless the Trainer has an EarlyStopping callback of its own.
        optimizer, lr_scheduler, lr_decay, checkpoint_every_n_steps: see `Task`.
    """

    monitor, mode = "val/acc", "max"
    pretrained_prefix = "encoder."  # a language model's encoder, not its decoder
    checkpoint_filename = "best-epoch{epoch}-acc{val/acc:.3f}"

    def __init__(
        self,
        network: nn.Module,
        pretrained: str | None = None,
        pretrained_partial: bool = False,
        vectors: str | None = None,
        vectors_format: str = "auto",
        freeze_embeddings: bool = False,
        early_stopping_patience: int | None = 3,
        optimizer: OptimizerCallable = torch.optim.Adam,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_decay: float | None = None,
        checkpoint_every_n_steps: int | None = None,
    ) -> None:
        super().__init__(network, optimizer, lr_scheduler, lr_decay, checkpoint_every_n_steps)
        self.save_task_hyperparameters()
        num_classes = self.hparams.network["init_args"]["num_classes"]
        self.metrics = torch.nn.ModuleDict(
            {f"{s}_metrics": classification_metrics(num_classes) for s in STAGES}
        )
        # evaluation losses as a mean over documents: under DDP, Lightning's `sync_dist` would
        # average the ranks' means, which differs from one process where ranks hold unequal counts
        self.eval_losses = torch.nn.ModuleDict({f"{s}_loss": MeanMetric() for s in ("val", "test")})
        self.test_confusion = confusion_matrix(num_classes)
        self.embedding_coverage: dict[str, float] = {}
        if vectors:
            self.network.embedding.weight.requires_grad_(not freeze_embeddings)

    def configure_callbacks(self) -> list[Callback]:
        callbacks = super().configure_callbacks()
        patience = self.hparams.early_stopping_patience
        if patience is not None and self.trainer.early_stopping_callback is None:
            callbacks.append(EarlyStopping(self.monitor, mode=self.mode, patience=patience))
        return callbacks

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        return self.network(tokens, lengths)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        datamodule = self.trainer.datamodule
        spelled = bool(getattr(datamodule, "hparams", {}).get("eval_words_in_vocab", False))
        reads_characters = hasattr(self.network, "set_vocabulary")  # ELMo
        if datamodule is not None and spelled != reads_characters:
            # unseen words get ids after the vocabulary only for a network that spells them;
            # `lightning_nlp.load(...).predict` always spells them for such a network
            raise ValueError(
                f"{type(self.network).__name__} "
                + ("reads words by their spelling: set --data.eval_words_in_vocab true"
                   if reads_characters else
                   "has no row for words outside its vocabulary: set "
                   "--data.eval_words_in_vocab false (it is for ELMo classifiers)")
            )  # fmt: skip
        if reads_characters and datamodule is not None:
            # the data module has read the stage's splits: their unseen words have their ids
            self.network.set_vocabulary(datamodule.spelled_words)
        if stage != "fit":
            return
        if self.hparams.vectors and not self.embedding_coverage:
            self.load_vectors(datamodule)
        if self.hparams.pretrained and not self._pretrained_loaded:
            self.load_pretrained(self.hparams.pretrained, datamodule)

    def load_vectors(self, datamodule: Any) -> None:
        """Copies pretrained vectors for the data module's vocabulary into the embedding."""
        from lightning_nlp.weights.vectors import build_embedding_matrix, load_vectors

        vectors = load_vectors(self.hparams.vectors, self.hparams.vectors_format)
        matrix, coverage = build_embedding_matrix(
            vectors,
            datamodule.vocab,
            self.network.embedding.embedding_dim,
            datamodule.train_token_counts(),
            source=self.hparams.vectors,
        )
        with torch.no_grad():
            self.network.embedding.weight.copy_(matrix)
        self.embedding_coverage = coverage.as_dict()
        log.info("word vectors: %s", coverage)
        if self.logger is not None:
            self.logger.log_hyperparams(
                {f"vectors/{k}": v for k, v in self.embedding_coverage.items()}
            )

    def _step(self, batch: TextBatch, stage: str) -> Tensor:
        logits = self.network(batch.tokens, batch.lengths).float()  # (B, C); fp32 under bf16
        loss = F.cross_entropy(logits, batch.labels)
        predictions = logits.argmax(-1)  # (B,)
        metrics = self.metrics[f"{stage}_metrics"]
        metrics.update(predictions, batch.labels)
        if stage == "test":
            self.test_confusion.update(predictions, batch.labels)
            probs = logits.detach().softmax(-1).cpu()  # (B, C)
            self._test_rows.append((batch.index.cpu(), probs, batch.labels.cpu()))
        size = len(batch.labels)
        if stage == "train":
            self.log(
                "train/loss", loss, on_step=True, on_epoch=True, batch_size=size, prog_bar=True
            )
        else:
            mean = self.eval_losses[f"{stage}_loss"]
            mean.update(loss.detach(), weight=size)
            self.log(f"{stage}/loss", mean, on_epoch=True, prog_bar=stage != "test")
        self.log_dict(
            {f"{stage}/{k}": v for k, v in metrics.items() if k != "acc"},
            on_step=False,
            on_epoch=True,
            batch_size=size,
            prog_bar=False,
        )
        self.log(
            f"{stage}/acc",
            metrics["acc"],
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=size,
        )
        return loss

    def training_step(self, batch: TextBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "train") * batch.loss_scale  # a mean over the step under DDP

    def validation_step(self, batch: TextBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: TextBatch, batch_idx: int) -> Tensor:
        return self._step(batch, "test")

    def predict_step(self, batch: TextBatch, batch_idx: int) -> dict[str, Tensor]:
        probs = self.network(batch.tokens, batch.lengths).float().softmax(-1)  # (B, C)
        return {"index": batch.index, "probs": probs}

    def on_test_epoch_start(self) -> None:
        self._test_rows: list[tuple[Tensor, Tensor, Tensor]] = []

    def on_test_epoch_end(self) -> None:
        self._save_test_probabilities()
        matrix = self.test_confusion.compute().cpu().numpy()
        datamodule = getattr(self.trainer, "datamodule", None)
        names = getattr(datamodule, "label_names", None) or [str(i) for i in range(len(matrix))]
        report = classification_report(matrix, names)
        self.test_report = report
        if not self.trainer.is_global_zero:
            self.test_confusion.reset()
            return
        rank_zero_info(f"\nTest classification report\n{report}\n")
        figure = plot_confusion_matrix(self.test_confusion, names, "test confusion matrix")
        self.test_confusion.reset()
        folder = run_dir(self.trainer)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / "test_confusion_matrix.png") as tmp:
            figure.savefig(tmp, dpi=120)
        atomic_write_text(folder / "test_report.txt", report + "\n")
        if type(self.logger).__name__ == "WandbLogger":
            import wandb

            self.logger.experiment.log(
                {
                    "test/confusion_matrix": wandb.Image(figure),
                    "test/report": wandb.Html(f"<pre>{report}</pre>"),
                }
            )
        import matplotlib.pyplot as plt

        plt.close(figure)

    def _save_test_probabilities(self) -> None:
        """`test_probabilities.npz` in the run folder: each test document's class
        probabilities and label, in the split's order, gathered from every rank, so that
        classifiers can be ensembled afterwards (ULMFiT averages forward and backward)."""
        rows = self._test_rows
        self._test_rows = []
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            gathered: list[Any] = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(gathered, rows)
            rows = [row for part in gathered for row in part]
        if not self.trainer.is_global_zero or not rows:
            return
        index = torch.cat([r[0] for r in rows]).numpy()
        order = np.unique(index, return_index=True)[1]  # DDP pads with repeated documents
        probs = torch.cat([r[1] for r in rows]).float().numpy()[order]  # (N, C)
        labels = torch.cat([r[2] for r in rows]).numpy()[order]  # (N,)
        buffer = io.BytesIO()
        np.savez(buffer, index=index[order], probs=probs, labels=labels)
        atomic_write_bytes(run_dir(self.trainer) / TEST_PROBABILITIES, buffer.getvalue())

    def on_fit_end(self) -> None:
        labels = getattr(self.trainer.datamodule, "label_names", None)
        export_model_folder(self, labels)
