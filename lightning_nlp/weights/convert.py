"""`lightning-nlp convert`: fastai's published AWD-LSTM language model (a `.pth` state dict
and its `itos` vocabulary pickle) as a model folder of this project.

Recognises the layouts of fastai 0.7 (`encoder_with_dropout`, `module.weight_hh_l0_raw`) and
fastai 1/2 (`encoder_dp`, `weight_hh_l0_raw`), with or without a `{"model": ..., "opt": ...}`
wrapper. fastai's special tokens become this project's (`xxpad` -> `<pad>`, `xxunk` ->
`<unk>`, `xxbos` -> `<bos>`, `xxeos` -> `<eos>`; 0.7's `_pad_`, `_unk_`, `xbos`); a special
fastai lacks gets the mean embedding row. The pickle is read by an unpickler that refuses
every class, so only plain lists of strings load.
"""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path

import torch
from jsonargparse import ArgumentParser
from torch import Tensor

from lightning_nlp.data.text.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocab
from lightning_nlp.nn.awd_lstm import AWDLSTMLanguageModel
from lightning_nlp.weights.checkpoints import CheckpointError
from lightning_nlp.weights.pretrained import rows_at, save_pretrained

FASTAI_SPECIALS = {
    "xxpad": PAD, "_pad_": PAD,
    "xxunk": UNK, "_unk_": UNK,
    "xxbos": BOS, "xbos": BOS,
    "xxeos": EOS,
}  # fmt: skip
_LAYER = re.compile(r"rnns\.(\d+)\.")


class _ListsOfStrings(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: expected a list of strings"
        )


def read_itos(path: str | Path) -> list[str]:
    """fastai's `itos` pickle: a list of token strings (nothing else is unpickled)."""
    try:
        itos = _ListsOfStrings(io.BytesIO(Path(path).read_bytes())).load()
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        raise CheckpointError(f"{path}: not an itos list ({error})") from None
    if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
        raise CheckpointError(f"{path}: expected a list of token strings")
    return itos


def read_fastai_weights(path: str | Path) -> dict[str, Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or "0.encoder.weight" not in state:
        raise CheckpointError(f"{path}: not a fastai AWD-LSTM language model (no 0.encoder.weight)")
    return state


def _find(state: dict[str, Tensor], layer: int, *names: str) -> Tensor:
    for name in names:
        key = f"0.rnns.{layer}.{name}"
        if key in state:
            return state[key]
    raise CheckpointError(f"layer {layer}: none of {names} in the state dict")


def convert_fastai(
    weights: str | Path,
    itos: str | Path,
    output: str | Path,
    tokenizer: str = "ulmfit",
    backwards: bool = False,
) -> Path:
    """Writes the model folder `output` and returns it. `backwards`: the weights are of a
    language model read right to left (fastai's `bwd_wt103`), for backward classifiers."""
    state = read_fastai_weights(weights)
    old_itos = read_itos(itos)
    embedding = state["0.encoder.weight"]  # (V, E)
    if embedding.shape[0] != len(old_itos):
        raise CheckpointError(
            f"{weights} has {embedding.shape[0]} embedding rows, {itos} {len(old_itos)} tokens"
        )
    num_layers = 1 + max(int(m.group(1)) for k in state if (m := _LAYER.search(k)))
    hidden_dim = _find(state, 0, "weight_hh_l0_raw", "module.weight_hh_l0_raw").shape[1]
    renamed = [FASTAI_SPECIALS.get(token, token) for token in old_itos]
    rest = [t for t in dict.fromkeys(renamed) if t not in SPECIALS]
    vocab = Vocab([*SPECIALS, *rest])
    source = {token: i for i, token in reversed(list(enumerate(renamed)))}  # first occurrence
    index = torch.tensor([source.get(token, -1) for token in vocab.itos])

    def rows(weight: Tensor) -> Tensor:
        return rows_at(weight, index)

    model = AWDLSTMLanguageModel(
        len(vocab), embedding.shape[1], hidden_dim, num_layers, pad_id=vocab.pad_id
    )
    converted = {"encoder.embedding.weight": rows(embedding)}
    decoder_bias = state.get("1.decoder.bias", torch.zeros(len(old_itos)))
    converted["decoder.bias"] = rows(decoder_bias)
    for i in range(num_layers):
        prefix = f"encoder.layers.{i}."
        converted[prefix + "weight_ih"] = _find(state, i, "module.weight_ih_l0")
        converted[prefix + "weight_hh"] = _find(
            state, i, "weight_hh_l0_raw", "module.weight_hh_l0_raw", "module.weight_hh_l0"
        )
        converted[prefix + "bias_ih"] = _find(state, i, "module.bias_ih_l0")
        converted[prefix + "bias_hh"] = _find(state, i, "module.bias_hh_l0")
    converted["decoder.weight"] = converted["encoder.embedding.weight"]
    model.load_state_dict(converted, strict=True)
    return save_pretrained(output, model, vocab, tokenizer, backwards)


def convert_cli(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lightning-nlp convert", description=__doc__)
    parser.add_function_arguments(convert_fastai, as_positional=False)
    config = parser.parse_args(argv)
    folder = convert_fastai(**config.as_dict())
    print(f"model folder written: {folder}")  # noqa: T201
