"""The default experiment logger: Weights & Biases, offline unless credentials are set."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any


def wandb_has_credentials() -> bool:
    """True when a W&B API key is in the environment or in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def default_logger_config(save_dir: str = "runs", project: str = "lightning-nlp") -> dict[str, Any]:
    """LightningCLI config of a WandbLogger; offline runs are synced later with `wandb sync`."""
    offline = not wandb_has_credentials() or os.environ.get("WANDB_MODE") == "offline"
    return {
        "class_path": "pytorch_lightning.loggers.WandbLogger",
        "init_args": {"project": project, "save_dir": save_dir, "offline": offline},
    }


def run_dir(trainer: Any) -> Path:
    """Folder for a run's files: the logger's versioned folder (CSV, TensorBoard), else the
    trainer's `default_root_dir` (W&B keeps its own files in its run folder)."""
    folder = getattr(trainer.logger, "log_dir", None) or trainer.default_root_dir
    return Path(folder)
