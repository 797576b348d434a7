"""The default experiment logger (Weights & Biases, offline unless credentials or `WANDB_MODE`
say otherwise) and the run folder that holds everything a run writes."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any

RUN_DIR_ENV = "LIGHTNING_NLP_RUN_DIR"  # set by the launching process for the ranks it starts


def wandb_has_credentials() -> bool:
    """True when a W&B API key is in the environment or in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def default_logger_config(project: str = "lightning-nlp") -> dict[str, Any]:
    """LightningCLI config of a WandbLogger; offline runs are synced later with `wandb sync`.
    Its `save_dir` is filled in with the run folder by the CLI.

    With `WANDB_MODE` unset the run is offline unless W&B credentials are set; when set
    (`offline`, `online`, `disabled`: W&B's own switch, which writes no run at all) W&B
    follows it, which `offline=True` would override."""
    offline = "WANDB_MODE" not in os.environ and not wandb_has_credentials()
    return {
        "class_path": "pytorch_lightning.loggers.WandbLogger",
        "init_args": {"project": project, "offline": offline},
    }


def new_run_dir(root: str | Path) -> Path:
    """Creates and returns the next free `root/version_N` folder.

    Ranks started by an external launcher (torchrun, SLURM) must agree on one folder without
    talking to each other, so there the folder is named after the job instead.
    """
    root = Path(root)
    job = os.environ.get("TORCHELASTIC_RUN_ID")
    if job == "none":  # torchrun without --standalone or --rdzv-id names no run
        raise RuntimeError(
            f"torchrun gave this run no id, so its ranks cannot agree on a folder under {root}: "
            f"pass --standalone or --rdzv-id ID to torchrun, or set {RUN_DIR_ENV}=FOLDER"
        )
    if int(os.environ.get("SLURM_NTASKS", "1")) > 1:  # every srun step is a run of its own
        job = f"{os.environ.get('SLURM_JOB_ID')}.{os.environ.get('SLURM_STEP_ID', 0)}"
    if job:
        folder = root / f"job_{job}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name[8:]) for p in root.glob("version_*") if p.name[8:].isdigit()]
    version = max(taken, default=-1) + 1
    while True:
        try:
            (root / f"version_{version}").mkdir()  # atomic: two runs never share a folder
            return root / f"version_{version}"
        except FileExistsError:
            version += 1


def run_dir(trainer: Any) -> Path:
    """Folder for a run's files (vocabulary, reports): the logger's folder, which the CLI makes
    the run folder; with no logger, the trainer's `default_root_dir`. Unlike `trainer.log_dir`
    it needs no collective call, so one rank alone may ask."""
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    logger = trainer.logger
    if logger is None:
        return Path(trainer.default_root_dir)
    folder = (
        logger.log_dir if isinstance(logger, CSVLogger | TensorBoardLogger) else logger.save_dir
    )
    return Path(folder or trainer.default_root_dir)
