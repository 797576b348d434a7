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

    Args:
        output: file to write, or "-" for standard output.
    """

    def __init__(self, output: str = "-") -> None:
        super().__init__(write_interval="epoch")
        self.output = output

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:  # noqa: ANN001
        index = torch.cat([p["index"] for p in predictions])  # (N,)
        probs = torch.cat([p["probs"] for p in predictions])[index.argsort()]  # (N, C) input order
        names = list(getattr(trainer.datamodule, "label_names", range(probs.shape[1])))
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
