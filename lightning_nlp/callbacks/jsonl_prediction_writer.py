"""Writes classifier predictions as JSON lines, in the input's order whatever the batch order."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.callbacks import BasePredictionWriter

from lightning_nlp.data.io import atomic_write_text


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
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            atomic_write_text(Path(self.output), text)

    def state_dict(self) -> dict[str, Any]:
        return {}
