"""Reading the project's checkpoints safely: which task wrote them, their data state, where they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

META_KEY = "lightning_nlp"  # checkpoint["lightning_nlp"] = {"task": "module.Class"}


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or does not fit the command it was given to."""


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file from a file path, a run folder (its `checkpoints/last.ckpt`) or a
    config's run root (the newest `version_*` folder that has a `last.ckpt`)."""
    path = Path(path)
    if path.is_file():
        return path
    if (path / "checkpoints" / "last.ckpt").is_file():
        return path / "checkpoints" / "last.ckpt"
    runs = sorted(
        (p for p in path.glob("*/checkpoints/last.ckpt")),
        key=lambda p: p.stat().st_mtime,
    )
    if runs:
        return runs[-1]
    raise CheckpointError(f"{path}: no checkpoint there (expected a .ckpt file or a run folder)")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's contents, loaded with `weights_only=True` (no pickled code runs)."""
    path = resolve_checkpoint(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # noqa: BLE001 (torch raises many kinds for a bad file)
        raise CheckpointError(f"{path}: not a readable checkpoint ({error})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no state_dict)")
    return checkpoint


def task_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def checkpoint_task(checkpoint: dict[str, Any]) -> str | None:
    """The class path of the LightningModule that wrote `checkpoint`: recorded by the task,
    or by LightningCLI in the hyperparameters."""
    recorded = (checkpoint.get(META_KEY) or {}).get("task")
    return recorded or (checkpoint.get("hyper_parameters") or {}).get("_class_path")


def check_task(checkpoint: dict[str, Any], expected: type, where: str | Path) -> None:
    """Refuses a checkpoint written by another task, naming both."""
    found = checkpoint_task(checkpoint)
    if found is not None and found != task_name(expected) and not _subclass(found, expected):
        raise CheckpointError(
            f"{where}: is a {found.rsplit('.', 1)[-1]} checkpoint, but this command needs a "
            f"{expected.__qualname__} one; pass a checkpoint of the right run"
        )


def data_state(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The data module's saved state (vocabulary, labels, tokeniser), if the checkpoint has one."""
    for value in checkpoint.values():
        if isinstance(value, dict) and "vocab" in value and "tokenizer" in value:
            return value
    return None


def import_class(class_path: str) -> type | None:
    """The class named by a dotted path, or None when it cannot be imported."""
    import importlib

    module, _, name = class_path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return found if isinstance(found, type) else None


def _subclass(class_path: str, expected: type) -> bool:
    found = import_class(class_path)
    return found is not None and issubclass(found, expected)


# arguments that networks recorded before they moved elsewhere: read, then left out
RETIRED_ARGS = {  # ELMo's weights file and layer cache: now weights.elmo.PretrainedElmoClassifier's
    "lightning_nlp.nn.elmo.classifier.ElmoClassifier": ("elmo_weights", "cache_dir"),
}


def build_network(network: nn.Module | dict[str, Any]) -> nn.Module:
    """The network itself, or one built from a `network_config` dict (from a checkpoint or a
    model folder)."""
    if isinstance(network, nn.Module):
        return network
    cls = import_class(network["class_path"])
    if cls is None or not issubclass(cls, nn.Module):  # a checkpoint may name any class
        raise ValueError(
            f"the network {network['class_path']!r} is not an importable torch.nn.Module class"
        )
    retired = RETIRED_ARGS.get(network["class_path"], ())
    init_args = {k: v for k, v in network.get("init_args", {}).items() if k not in retired}
    return cls(**init_args)
