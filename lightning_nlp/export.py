"""`lightning-nlp export`: a checkpoint turned into a self-describing model folder.

The folder (`config.json`, `model.safetensors`, `vocab.json`) loads without unpickling
anything and without the training code's data or config: `lightning_nlp.load(folder)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentParser

from lightning_nlp.checkpoints import (
    CheckpointError,
    data_state,
    read_checkpoint,
    resolve_checkpoint,
)
from lightning_nlp.data.vocab import Vocab
from lightning_nlp.pretrained import NETWORK_PACKAGE, Pretrained, save_pretrained

NETWORK_PREFIX = "network."  # the tasks keep their network as `self.network`


def pretrained_from_checkpoint(ckpt_path: str | Path) -> Pretrained:
    """The network of a task checkpoint, with its vocabulary, tokeniser and labels."""
    from lightning_nlp.tasks.base import build_network

    path = resolve_checkpoint(ckpt_path)
    checkpoint = read_checkpoint(path)
    network_config = checkpoint.get("hyper_parameters", {}).get("network")
    data = data_state(checkpoint)
    if not isinstance(network_config, dict) or data is None:
        raise CheckpointError(f"{path}: not a lightning_nlp task checkpoint with its vocabulary")
    class_path = str(network_config.get("class_path", ""))
    if not class_path.startswith(NETWORK_PACKAGE):  # nothing else is imported from a file
        raise CheckpointError(f"{path}: {class_path} is not a network of {NETWORK_PACKAGE}")
    try:
        network = build_network(network_config)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    weights = {
        k.removeprefix(NETWORK_PREFIX): v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith(NETWORK_PREFIX)
    }
    network.load_state_dict(weights)
    return Pretrained(
        network.eval(),
        Vocab(data["vocab"]),
        data["tokenizer"],
        bool(data.get("backwards")),
        data.get("labels"),
        data.get("max_len"),
    )


def export(ckpt_path: str, output: str) -> dict[str, Any]:
    """Writes the checkpoint's model folder to `output` (replaced whole if it exists).

    Args:
        ckpt_path: a task checkpoint, or a run folder (its last.ckpt).
        output: the model folder to write.
    """
    pre = pretrained_from_checkpoint(ckpt_path)
    folder = save_pretrained(
        output, pre.network, pre.vocab, pre.tokenizer, pre.backwards, pre.labels, pre.max_len
    )
    kind = "classifier" if pre.labels is not None else "language model"
    return {"output": str(folder), "kind": kind, "vocab": len(pre.vocab), "labels": pre.labels}


def export_cli(args: list[str]) -> dict[str, Any]:
    """Prints one JSON line describing the folder written."""
    parser = ArgumentParser(description="Export a checkpoint as a self-describing model folder.")
    parser.add_function_arguments(export, None, as_group=False)
    config = parser.parse_args(args)
    result = export(config.ckpt_path, config.output)
    print(json.dumps(result))  # noqa: T201 (the command's output)
    return result
