"""A classifier's network as a TorchScript or ONNX graph beside its model folder, checked
against PyTorch when written, and run by `lightning_nlp.load(folder, backend=...)`.

The graphs take `tokens` (B, T) int64 and `lengths` (B,) int64 and return logits (B, C), for
any B and T. Recurrent layers run over padded batches (`lightning_nlp.nn.padded_rnn`), as
packed sequences cannot be exported; the results are the same.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from lightning_nlp.data.text.io import atomic_write_text
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier, RNNClassifier
from lightning_nlp.weights.checkpoints import CheckpointError

GraphFormat = Literal["torchscript", "onnx"]
GRAPH_FILES: dict[str, str] = {"torchscript": "model.torchscript.pt", "onnx": "model.onnx"}
GRAPHS_FILE = "graphs.json"  # what was written, and how far it is from PyTorch's outputs
TOLERANCE = 1e-4  # largest absolute logit difference accepted from an exported graph


def check_onnx_packages() -> None:
    """Refuses, before anything is written, an ONNX export without the `export` extra."""
    needed = ("onnx", "onnxscript", "onnxruntime")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise CheckpointError(
            f"ONNX export needs {', '.join(missing)}: pip install 'lightning-nlp[export]'"
        )


def check_exportable(network: nn.Module) -> None:
    """Refuses a network that has no graph export (subclasses too: the ELMo classifier's biLM
    reads characters, not the word ids the graphs take)."""
    if type(network) not in (RNNClassifier, AveragedEmbeddingClassifier):
        raise CheckpointError(
            f"TorchScript and ONNX export cover the classifiers of "
            f"lightning_nlp.nn.text_classifiers; {type(network).__name__} is not one"
        )


def exportable(network: nn.Module) -> nn.Module:
    """A copy of `network` in eval mode whose forward can be traced."""
    check_exportable(network)
    copied = copy.deepcopy(network).eval()
    if isinstance(copied, RNNClassifier):
        copied.packed = False
    return copied


def example_inputs(vocab_size: int, batch: int = 3, steps: int = 11) -> tuple[Tensor, Tensor]:
    """A batch of random ids with unequal lengths, the longest filling the batch."""
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(4, vocab_size, (batch, steps), generator=generator)  # (B, T)
    lengths = torch.linspace(steps, 1, batch).round().long()  # (B,)
    tokens[torch.arange(steps) >= lengths.unsqueeze(1)] = 0
    return tokens, lengths


def write_graphs(network: nn.Module, folder: str | Path, formats: list[GraphFormat]) -> dict:
    """Writes each format's graph into `folder` (atomically), runs it on two batches of other
    shapes than the one it was traced with and refuses it if its logits differ from PyTorch's
    by more than TOLERANCE. Returns and saves (`graphs.json`) each file and its difference."""
    folder = Path(folder)
    model = exportable(network)
    vocab_size = model.embedding.num_embeddings
    trace_inputs = example_inputs(vocab_size)
    checks = [example_inputs(vocab_size, 5, 23), example_inputs(vocab_size, 1, 4)]
    written: dict[str, Any] = {}
    for fmt in formats:
        path = folder / GRAPH_FILES[fmt]
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            building = Path(tmp) / path.name
            (_write_torchscript if fmt == "torchscript" else _write_onnx)(
                model, trace_inputs, building
            )
            run = load_graph(building, fmt)
            with torch.inference_mode():
                gap = max(float((run(*x) - model(*x)).abs().max()) for x in checks)
            if not gap <= TOLERANCE:
                raise CheckpointError(
                    f"{path}: the {fmt} graph's logits differ from PyTorch's by {gap:.3g} "
                    f"(more than {TOLERANCE}); not written"
                )
            os.replace(building, path)
        written[fmt] = {"file": path.name, "max_abs_logit_diff": gap}
    atomic_write_text(folder / GRAPHS_FILE, json.dumps(written, indent=2) + "\n")
    return written


def _write_torchscript(model: nn.Module, inputs: tuple[Tensor, Tensor], path: Path) -> None:
    with torch.inference_mode(False), torch.no_grad():
        traced = torch.jit.trace(model, inputs, check_trace=False)
    traced.save(str(path))


def _write_onnx(model: nn.Module, inputs: tuple[Tensor, Tensor], path: Path) -> None:
    batch, steps = torch.export.Dim("batch"), torch.export.Dim("steps")
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # its notes on optional registries (torchvision)
    try:  # the exporter prints its progress: kept off stdout, where `export` writes its JSON
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                inputs,
                str(path),
                input_names=["tokens", "lengths"],
                output_names=["logits"],
                dynamic_shapes=({0: batch, 1: steps}, {0: batch}),
                dynamo=True,
                external_data=False,  # one file (a classifier is far below protobuf's 2 GB)
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)


def load_graph(path: str | Path, fmt: GraphFormat) -> Callable[[Tensor, Tensor], Tensor]:
    """A function (tokens, lengths) -> logits running the graph in `path`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: file not found; write it with lightning-nlp export --{fmt} true"
        )
    if fmt == "torchscript":
        try:
            graph = torch.jit.load(str(path), map_location="cpu").eval()
        except RuntimeError as error:
            raise CheckpointError(f"{path}: not a TorchScript graph ({error})") from None
        return lambda tokens, lengths: graph(tokens, lengths)
    try:
        import onnxruntime
    except ImportError:
        raise CheckpointError(
            "the onnx backend needs onnxruntime: pip install 'lightning-nlp[export]'"
        ) from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    try:
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # noqa: BLE001 (onnxruntime raises its own kinds)
        raise CheckpointError(f"{path}: not an ONNX graph ({error})") from None

    def run(tokens: Tensor, lengths: Tensor) -> Tensor:
        feeds = {"tokens": tokens.numpy(), "lengths": lengths.numpy()}
        return torch.from_numpy(np.asarray(session.run(["logits"], feeds)[0]))

    return run
