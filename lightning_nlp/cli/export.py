"""`lightning-nlp export`: a checkpoint turned into a self-describing model folder.

The folder (`config.json`, `model.safetensors`, `vocab.json`) loads without unpickling
anything and without the training code's data or config: `lightning_nlp.load(folder)`.
"""

from __future__ import annotations

import json
from typing import Any

from jsonargparse import ArgumentParser

from lightning_nlp.weights.pretrained import pretrained_from_checkpoint, save_pretrained


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
        from lightning_nlp.inference.graphs import check_exportable, check_onnx_packages

        check_exportable(pre.network)  # before anything is written
        if onnx:
            check_onnx_packages()
    folder = save_pretrained(
        output, pre.network, pre.vocab, pre.tokenizer, pre.backwards, pre.labels, pre.max_len
    )
    kind = "classifier" if pre.labels is not None else "language model"
    result = {"output": str(folder), "kind": kind, "vocab": len(pre.vocab), "labels": pre.labels}
    if formats:
        from lightning_nlp.inference.graphs import write_graphs

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
