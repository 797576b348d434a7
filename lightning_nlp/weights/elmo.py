"""ELMo weights: a `BiLM` from the published files (`options.json` + `weights.hdf5`, the
bilm-tf layout, downloaded by name) or from one of the project's model folders, and the
ELMo classifier built on such weights."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.characters import MAX_WORD_LENGTH
from lightning_nlp.nn.elmo.classifier import ElmoClassifier
from lightning_nlp.weights.layer_cache import attach_layer_cache

OPTIONS_FILE, WEIGHTS_FILE = "options.json", "weights.hdf5"
_S3 = "https://allennlp.s3.amazonaws.com/models/elmo"
PUBLISHED = {  # name: the published files' common prefix
    "elmo-small": f"{_S3}/2x1024_128_2048cnn_1xhighway/elmo_2x1024_128_2048cnn_1xhighway",
    "elmo-medium": f"{_S3}/2x2048_256_2048cnn_1xhighway/elmo_2x2048_256_2048cnn_1xhighway",
    "elmo-original": f"{_S3}/2x4096_512_2048cnn_2xhighway/elmo_2x4096_512_2048cnn_2xhighway",
}


def load_bilm(source: str | Path) -> BiLM:
    """A biLM from a folder holding `options.json` and `weights.hdf5`, a model folder of the
    project (a `BiLMTask` run's `pretrained/`), or a published model's name (see `PUBLISHED`;
    downloaded once to ~/.cache/lightning_nlp/elmo/<name>)."""
    if str(source) in PUBLISHED:
        source = _download(str(source))
    folder = Path(source)
    if (folder / WEIGHTS_FILE).is_file() or (folder / OPTIONS_FILE).is_file():
        return load_published(folder / OPTIONS_FILE, folder / WEIGHTS_FILE)
    if (folder / "config.json").is_file():
        from lightning_nlp.weights.pretrained import load_pretrained

        network = load_pretrained(folder).network
        bilm = network if isinstance(network, BiLM) else getattr(network, "bilm", None)
        if not isinstance(bilm, BiLM):
            raise ValueError(
                f"{folder}: the model folder holds a {type(network).__name__}, not a biLM"
            )
        return bilm
    raise FileNotFoundError(
        f"{folder}: no ELMo weights here. Expected {OPTIONS_FILE} and {WEIGHTS_FILE} (the "
        f"published files, renamed), a model folder from `lightning-nlp fit --config "
        f"configs/elmo/bilm_imdb.yaml`, or one of the names {sorted(PUBLISHED)}"
    )


class PretrainedElmoClassifier(ElmoClassifier):
    """`ElmoClassifier` on a trained biLM: `elmo_weights` is read when the network is built
    (see `load_bilm`: published files, a biLM run's model folder, or a published name).

    Checkpoints and model folders record it as the `ElmoClassifier` it is, with the biLM's
    architecture (`bilm`) and weights, so loading them reads no weights file: the files need
    not exist on the machine that loads it.

    Args:
        elmo_weights: where the biLM's weights come from (see `load_bilm`).
        bilm: the biLM's architecture; given, `elmo_weights` is not read (the weights come
            from elsewhere, e.g. a checkpoint loaded after).
        cache_dir: on-disk cache of the frozen biLM's layers (see `LayerCache`).
        other arguments: see `ElmoClassifier`.
    """

    recorded_class = ElmoClassifier

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        elmo_weights: str,
        bilm: dict[str, Any] | None = None,
        cache_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        trained = load_bilm(elmo_weights) if bilm is None else None
        architecture = trained.init_args if trained is not None else bilm
        super().__init__(vocab_size, num_classes, architecture, **kwargs)
        if trained is not None:
            self.elmo.bilm.load_state_dict(trained.state_dict())
        attach_layer_cache(self.elmo, cache_dir)


def bilm_from_options(options: dict[str, Any]) -> BiLM:
    """An untrained `BiLM` of the architecture an `options.json` describes."""
    cnn, lstm = options["char_cnn"], options["lstm"]
    if cnn.get("max_characters_per_token", MAX_WORD_LENGTH) != MAX_WORD_LENGTH:
        raise ValueError(f"only {MAX_WORD_LENGTH} characters per token are supported")
    return BiLM(
        filters=[list(f) for f in cnn["filters"]],
        char_dim=cnn["embedding"]["dim"],
        num_highway=cnn.get("n_highway", 0),
        projection_dim=lstm["projection_dim"],
        cell_dim=lstm["dim"],
        num_layers=lstm["n_layers"],
        cell_clip=lstm.get("cell_clip"),
        proj_clip=lstm.get("proj_clip"),
        residual=lstm.get("use_skip_connections", False),
        dropout=0.0,
        activation=cnn.get("activation", "relu"),
    )


def load_published(options_file: str | Path, weights_file: str | Path) -> BiLM:
    """A `BiLM` with the published weights; TensorFlow's (i, j, f, o) gate order becomes
    (i, f, j, o) and its forget-gate offset of 1 moves into the bias."""
    import h5py

    for path in (options_file, weights_file):
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"{path}: file not found (the published ELMo {Path(path).name})"
            )
    options = json.loads(Path(options_file).read_text(encoding="utf-8"))
    bilm = bilm_from_options(options)
    with h5py.File(weights_file, "r") as fin, torch.no_grad():
        try:
            _load_token_encoder(bilm, fin)
            for direction, stack in enumerate((bilm.forward_layers, bilm.backward_layers)):
                for index, layer in enumerate(stack):
                    cell = fin[f"RNN_{direction}"]["RNN"]["MultiRNNCell"][f"Cell{index}"]
                    _load_lstm(layer, cell["LSTMCell"])
        except (KeyError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"{weights_file}: not the published ELMo layout for {options_file} ({error})"
            ) from None
    return bilm.eval()


def _copy(target: nn.Parameter, value: np.ndarray, name: str) -> None:
    if tuple(value.shape) != tuple(target.shape):
        raise ValueError(f"{name} has shape {value.shape}, the options say {tuple(target.shape)}")
    target.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


def _load_token_encoder(bilm: BiLM, fin: Any) -> None:
    encoder = bilm.token_encoder
    table = fin["char_embed"][...]  # (261, E): char ids 1..261; id 0 (no token) stays zero
    rows = np.zeros(tuple(encoder.char_embedding.weight.shape), np.float32)
    rows[1 : 1 + table.shape[0]] = table
    _copy(encoder.char_embedding.weight, rows, "char_embed")
    for i, conv in enumerate(encoder.convolutions):
        weight = fin["CNN"][f"W_cnn_{i}"][...]  # (1, width, E, n)
        _copy(conv.weight, weight[0].transpose(2, 1, 0), f"CNN/W_cnn_{i}")
        _copy(conv.bias, fin["CNN"][f"b_cnn_{i}"][...], f"CNN/b_cnn_{i}")
    highway = encoder.highway
    for k, (transform, carry) in enumerate(zip(highway.transform, highway.carry)):
        group = fin[f"CNN_high_{k}"]
        _copy(transform.weight, group["W_transform"][...].T, f"CNN_high_{k}/W_transform")
        _copy(transform.bias, group["b_transform"][...], f"CNN_high_{k}/b_transform")
        _copy(carry.weight, group["W_carry"][...].T, f"CNN_high_{k}/W_carry")
        _copy(carry.bias, group["b_carry"][...], f"CNN_high_{k}/b_carry")
    _copy(encoder.projection.weight, fin["CNN_proj"]["W_proj"][...].T, "CNN_proj/W_proj")
    _copy(encoder.projection.bias, fin["CNN_proj"]["b_proj"][...], "CNN_proj/b_proj")


def _load_lstm(layer: nn.Module, cell: Any) -> None:
    weight = cell["W_0"][...].T  # (4H, I + P), gates i j f o
    bias = cell["B"][...].copy()  # (4H,)
    i, j, f, o = np.split(weight, 4)
    weight = np.concatenate([i, f, j, o])
    bi, bj, bf, bo = np.split(bias, 4)
    bias = np.concatenate([bi, bf + 1.0, bj, bo])  # TensorFlow adds 1 to the forget gate
    inputs = layer.weight_ih.shape[1]
    _copy(layer.weight_ih, weight[:, :inputs], "LSTMCell/W_0 (input rows)")
    _copy(layer.weight_hh, weight[:, inputs:], "LSTMCell/W_0 (recurrent rows)")
    _copy(layer.bias, bias, "LSTMCell/B")
    _copy(layer.weight_proj, cell["W_P_0"][...].T, "LSTMCell/W_P_0")


def _download(name: str) -> Path:
    from lightning_nlp.data.text.download import Source, ensure_files
    from lightning_nlp.data.text.io import CorpusError

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "lightning_nlp" / "elmo" / name
    prefix = PUBLISHED[name]
    sources = {
        OPTIONS_FILE: Source(f"{prefix}_options.json"),
        WEIGHTS_FILE: Source(f"{prefix}_weights.hdf5"),
    }
    try:
        ensure_files(folder, [OPTIONS_FILE, WEIGHTS_FILE], sources)
    except CorpusError as error:
        raise CorpusError(
            f"{error}\nFor {name}, download {prefix}_options.json and {prefix}_weights.hdf5, "
            f"and save them as {OPTIONS_FILE} and {WEIGHTS_FILE} in {folder} (or in any folder, "
            "and pass that folder as elmo_weights)"
        ) from None
    return folder
