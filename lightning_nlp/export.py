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


def pretrained_from_checkpoint(
    ckpt_path: str | Path, checkpoint: dict[str, Any] | None = None
) -> Pretrained:
    """The network of a task checkpoint, with its vocabulary, tokeniser and labels;
    `checkpoint`: the file's contents when already read."""
    from lightning_nlp.tasks.base import build_network

    path = resolve_checkpoint(ckpt_path)
    checkpoint = read_checkpoint(path) if checkpoint is None else checkpoint
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
    try:
        network.load_state_dict(weights)
    except RuntimeError as error:  # another vocabulary's or architecture's weights
        raise CheckpointError(f"{path}: the weights do not fit the network ({error})") from None
    return Pretrained(
        network.eval(),
        Vocab(data["vocab"]),
        data["tokenizer"],
        bool(data.get("backwards")),
        data.get("labels"),
        data.get("max_len"),
    )


def export(
    ckpt_path: str, output: str, torchscript: bool = False, onnx: bool = False
) -> dict[str, Any]:
    """Writes the checkpoint's model folder to `output` (replaced whole if it exists).

    Args:
        ckpt_path: a task checkpoint, or a run folder (its last.ckpt).
        output: the model folder to write.
        torchscript: also write `model.torchscript.pt` (classifiers of
            lightning_nlp.nn.text_classifiers), checked against PyTorch's outputs.
        onnx: also write `model.onnx` (the same classifiers), checked with onnxruntime.
    """
    pre = pretrained_from_checkpoint(ckpt_path)
    formats = [f for f, wanted in (("torchscript", torchscript), ("onnx", onnx)) if wanted]
    if formats:
        from lightning_nlp.graphs import check_exportable, check_onnx_packages

        check_exportable(pre.network)  # before anything is written
        if onnx:
            check_onnx_packages()
    folder = save_pretrained(
        output, pre.network, pre.vocab, pre.tokenizer, pre.backwards, pre.labels, pre.max_len
    )
    kind = "classifier" if pre.labels is not None else "language model"
    result = {"output": str(folder), "kind": kind, "vocab": len(pre.vocab), "labels": pre.labels}
    if formats:
        from lightning_nlp.graphs import write_graphs

        result["graphs"] = write_graphs(pre.network, folder, formats)  # type: ignore[arg-type]
    return result


def export_cli(args: list[str]) -> dict[str, Any]:
    """Prints one JSON line describing the folder written."""
    parser = ArgumentParser(description="Export a checkpoint as a self-describing model folder.")
    parser.add_function_arguments(export, None, as_group=False)
    config = parser.parse_args(args)
    result = export(config.ckpt_path, config.output, config.torchscript, config.onnx)
    print(json.dumps(result))  # noqa: T201 (the command's output)
    return result
