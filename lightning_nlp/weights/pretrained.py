"""Self-describing model folders, and moving weights between vocabularies.

A folder holds `config.json` (the network's class and arguments, tokeniser, direction,
labels), `model.safetensors` (weights; nothing is unpickled when loading), and `vocab.json`.
Only classes under `lightning_nlp.nn` are built from a folder's config (a network that reads
weights when built, `weights.elmo.PretrainedElmoClassifier`, is saved as its `nn` class).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import Tensor, nn

from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.nn.init_args import network_config
from lightning_nlp.weights.checkpoints import (
    CheckpointError,
    build_network,
    data_state,
    read_checkpoint,
    resolve_checkpoint,
)

FORMAT = "lightning_nlp.pretrained/1"  # in every model folder: unchanged when modules move
CONFIG_FILE, WEIGHTS_FILE, VOCAB_FILE = "config.json", "model.safetensors", "vocab.json"
NETWORK_PACKAGE = "lightning_nlp.nn."
log = logging.getLogger(__name__)
VOCAB_ROWS = ("embedding.weight", "decoder.weight", "decoder.bias")  # tensors indexed by word id


@dataclass
class Pretrained:
    network: nn.Module
    vocab: Vocab
    tokenizer: str
    backwards: bool = False
    labels: list[str] | None = None
    max_len: int | None = None  # a classifier reads at most the first `max_len` tokens
    folder: Path | None = None  # where it was read from (named in errors)


def save_pretrained(
    folder: str | Path,
    network: nn.Module,
    vocab: Vocab,
    tokenizer: str,
    backwards: bool = False,
    labels: list[str] | None = None,
    max_len: int | None = None,
) -> Path:
    """Writes the folder atomically: built beside it, then moved into place."""

    folder = Path(folder)
    if folder.exists() and not (folder / CONFIG_FILE).is_file() and any(folder.iterdir()):
        raise CheckpointError(
            f"{folder}: exists and is not a model folder; it is left as it is (choose a new "
            "folder, or an existing model folder to replace)"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(f".{folder.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    config = {
        "format": FORMAT,
        "network": network_config(network),
        "tokenizer": tokenizer,
        "backwards": backwards,
        "labels": labels,
        "max_len": max_len,
    }
    (building / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    save_model(network, str(building / WEIGHTS_FILE))  # tied weights are stored once
    vocab.save(building / VOCAB_FILE)
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        folder.rename(old)
        building.rename(folder)
        shutil.rmtree(old)
    else:
        building.rename(folder)
    return folder


def read_config(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder}: not a model folder (no {CONFIG_FILE})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from None
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {config.get('format')!r}, expected {FORMAT!r}")
    return config


def load_pretrained(folder: str | Path) -> Pretrained:
    """Builds the folder's network and loads its weights (strictly)."""
    folder = Path(folder)
    config = read_config(folder)
    class_path = config["network"]["class_path"]
    if not class_path.startswith(NETWORK_PACKAGE):  # nothing else is imported from a file
        raise CheckpointError(f"{folder}: {class_path} is not a network of {NETWORK_PACKAGE}")
    try:
        network = build_network(config["network"])
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{folder}: cannot build {class_path} ({error})") from None
    try:
        load_model(network, str(folder / WEIGHTS_FILE))
    except (SafetensorError, RuntimeError, OSError) as error:
        raise CheckpointError(
            f"{folder / WEIGHTS_FILE}: not this network's weights ({error})"
        ) from None
    vocab = Vocab.load(folder / VOCAB_FILE)
    words = config["network"]["init_args"].get("vocab_size", len(vocab))
    if words != len(vocab):
        raise CheckpointError(
            f"{folder / VOCAB_FILE}: {len(vocab)} words, but the network was built for {words}"
        )
    return Pretrained(
        network.eval(),
        vocab,
        config["tokenizer"],
        config["backwards"],
        config.get("labels"),
        config.get("max_len"),
        folder,
    )


def retarget_rows(weight: Tensor, old: Vocab, new: Vocab) -> tuple[Tensor, int]:
    """Rows of `weight` (V_old, ...) re-indexed for the new vocabulary: a word in both keeps its
    row, a new word gets the mean row. Returns (V_new, ...) and how many rows were copied."""
    index = torch.tensor([old.stoi.get(token, -1) for token in new.itos])  # (V_new,)
    return rows_at(weight, index), int((index >= 0).sum())


def rows_at(weight: Tensor, index: Tensor) -> Tensor:
    """weight (V_old, ...) -> (len(index), ...): row index[i] of `weight`, or the mean row where
    index[i] is -1 (a word the old vocabulary lacks)."""
    known = index >= 0
    result = weight.mean(dim=0, keepdim=True).expand(len(index), *weight.shape[1:]).clone()
    result[known] = weight[index[known]]
    return result


def transfer_weights(
    target: nn.Module,
    source: Pretrained,
    vocab: Vocab,
    tokenizer: str,
    backwards: bool = False,
    prefix: str = "encoder.",
    partial: bool = False,
) -> dict[str, float]:
    """Loads `source`'s weights whose names start with `prefix` into `target`, re-indexing
    word rows (embedding, tied decoder, decoder bias) from the source's vocabulary to `vocab`.
    Refuses another tokeniser or direction.

    Only the part under `prefix` moves (a language model's encoder into a classifier: its
    decoder stays behind and the classifier's head starts as it is). That part must match
    tensor for tensor: the target's tensors under `prefix` that the source lacks (a deeper
    network), the source's that the target has no place for (a shallower one), and tensors of
    another shape are refused, by name, unless `partial`: then the tensors that fit are loaded,
    the others are left as they were (random) and named in a warning, and the returned stats
    count them (`pretrained/left_random`, `pretrained/unused`)."""
    if source.tokenizer != tokenizer:
        raise CheckpointError(
            f"the pretrained model was trained on {source.tokenizer!r} tokens, the data are "
            f"tokenised with {tokenizer!r}: set the data module's tokenizer to match"
        )
    if source.backwards != backwards:
        raise CheckpointError(
            f"the pretrained model reads {'backwards' if source.backwards else 'forwards'}, "
            f"the data {'backwards' if backwards else 'forwards'}"
        )
    where = source.folder or "the pretrained model"
    own = {k: v for k, v in target.state_dict().items() if k.startswith(prefix)}
    theirs = {k: v for k, v in source.network.state_dict().items() if k.startswith(prefix)}
    missing = [name for name in own if name not in theirs]  # would stay random
    unused = [name for name in theirs if name not in own]  # pretrained, dropped
    mismatched: dict[str, str] = {}  # name: the two shapes
    moved: dict[str, Tensor] = {}
    copied = 0
    for name, tensor in theirs.items():
        if name not in own:
            continue
        if name.endswith(VOCAB_ROWS):
            tensor, copied = retarget_rows(tensor, source.vocab, vocab)
        if tensor.shape != own[name].shape:
            mismatched[name] = (
                f"{name}: the pretrained model has shape {tuple(tensor.shape)}, this network "
                f"{tuple(own[name].shape)}"
            )
            continue
        moved[name] = tensor
    problems = []
    if missing:
        problems.append(f"this network's {_names(missing)} are not in it")
    if unused:
        problems.append(f"its {_names(unused)} have no place in this network")
    shapes = list(mismatched.values())
    problems += shapes[:6] + ([f"{len(shapes) - 6} more of other shapes"] if shapes[6:] else [])
    if problems and not partial:
        raise CheckpointError(
            f"{where} does not fit this network under {prefix!r}: {'; '.join(problems)}; "
            "give the network the pretrained sizes (layers, widths), or load only what fits "
            "with partial=True (for a task: --model.pretrained_partial true)"
        )
    if not moved:
        raise CheckpointError(f"{where} has no weights under {prefix!r} that fit")
    target.load_state_dict(moved, strict=False)
    left_random = missing + list(mismatched)
    if problems:
        log.warning(
            "partial load of %s: left random: %s; not loaded: %s",
            where,
            _names(left_random) or "none",
            _names(unused + list(mismatched)) or "none",
        )
    return {
        "pretrained/tensors": len(moved),
        "pretrained/vocab_coverage": copied / len(vocab),
        "pretrained/left_random": len(left_random),
        "pretrained/unused": len(unused) + len(mismatched),
    }


def _names(names: list[str], shown: int = 12) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


NETWORK_PREFIX = "network."  # the tasks keep their network as `self.network`


def pretrained_from_checkpoint(
    ckpt_path: str | Path, checkpoint: dict[str, Any] | None = None
) -> Pretrained:
    """The network of a task checkpoint, with its vocabulary, tokeniser and labels;
    `checkpoint`: the file's contents when already read."""
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
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: cannot build {class_path} ({error})") from None
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
