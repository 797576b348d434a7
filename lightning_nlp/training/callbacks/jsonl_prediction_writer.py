"""Writes classifier predictions as JSON lines, in the input's order whatever the batch order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, TextIO

import torch
from pytorch_lightning.callbacks import BasePredictionWriter

from lightning_nlp.data.text.io import atomic_write_text

_STDOUT: list[TextIO] = []  # the real stdout while `stdout_for_predictions_only` lasts


@contextmanager
def stdout_for_predictions_only() -> Iterator[None]:
    """While it lasts, whatever else is printed to stdout (a callback, a model, a library) goes
    to stderr, and the writer alone writes to stdout: `predict > predictions.jsonl` is a
    JSON-lines file."""
    _STDOUT.append(sys.stdout)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        _STDOUT.pop()


class JSONLPredictionWriter(BasePredictionWriter):
    """One line per document: `{"label": ..., "probs": {label: p, ...}}`.

    Under DDP each rank predicts its share of the batches; rank 0 gathers them all and writes
    one file (or stdout) in the input's order.

    Args:
        output: file to write, or "-" for standard output.
    """

    def __init__(self, output: str = "-") -> None:
        super().__init__(write_interval="epoch")
        self.output = output

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:  # noqa: ANN001
        names = list(getattr(trainer.datamodule, "label_names", []))
        index = torch.cat(
            [torch.zeros(0, dtype=torch.long)] + [p["index"].cpu() for p in predictions]
        )
        probs = torch.cat(
            [torch.zeros(0, len(names))] + [p["probs"].float().cpu() for p in predictions]
        )
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            parts: list[Any] = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(parts, (index, probs))
            if not trainer.is_global_zero:
                return
            index = torch.cat([part[0] for part in parts])
            probs = torch.cat([part[1] for part in parts])
        probs = probs[index.argsort()]  # (N, C) in input order
        lines = []
        for row in probs.tolist():
            best = max(range(len(row)), key=row.__getitem__)
            lines.append(
                json.dumps(
                    {
                        "label": str(names[best]),
                        "probs": {str(n): round(p, 6) for n, p in zip(names, row)},
                    }
                )
            )
        text = "".join(line + "\n" for line in lines)
        if self.output == "-":
            stdout = _STDOUT[-1] if _STDOUT else sys.stdout
            stdout.write(text)
            stdout.flush()
        else:
            atomic_write_text(Path(self.output), text)

    def state_dict(self) -> dict[str, Any]:
        return {}
