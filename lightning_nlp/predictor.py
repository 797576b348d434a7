"""A trained model, ready to use without training code or data: `lightning_nlp.load(path)`.

`path` is a model folder (`config.json`, `model.safetensors`, `vocab.json`: what `fit` leaves
in `<run>/pretrained` and `lightning-nlp export` writes) or a checkpoint / run folder. Nothing is
unpickled: weights come from safetensors or `torch.load(weights_only=True)`. Classifiers get
`predict(texts)`, language models `generate(prompt, ...)`.

Backends: "fp32"; "bf16" (autocast, on CPUs with AMX/AVX-512 BF16 or on GPUs; refused
elsewhere, see `lightning_nlp.precision`); "int8" (dynamic quantisation of the linear and LSTM
layers, made at load time from the fp32 weights); "auto" (the default): bf16 where the hardware
has it, else the folder's ONNX graph when it has one, else int8 (measured on an AVX2 CPU for an
IMDb BiLSTM over the 25,000 test reviews, one thread: ONNX Runtime 2.16x fp32's documents/s,
int8 1.25x, TorchScript 1.15x, all at fp32's accuracy; see the README).
int8 covers `nn.Linear`, `nn.LSTM` and `nn.GRU`: AWD-LSTM's weight-dropped LSTMs (which call
`torch.lstm` themselves) stay fp32, only their decoder/head is quantised.
"torchscript" and "onnx" (onnxruntime) run the graphs that `lightning-nlp export --torchscript
true --onnx true` writes into a classifier's model folder (see `lightning_nlp.graphs`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from torch import nn

from lightning_nlp.checkpoints import CheckpointError
from lightning_nlp.data.classification_datamodule import prediction_documents
from lightning_nlp.data.classification_dataset import ClassificationDataset, SortishBatchSampler
from lightning_nlp.data.token_cache import tokenize_texts
from lightning_nlp.nn.elmo.elmo import Elmo
from lightning_nlp.precision import bf16_support, check_bf16
from lightning_nlp.pretrained import CONFIG_FILE, Pretrained, load_pretrained

Backend = Literal["auto", "fp32", "bf16", "int8", "torchscript", "onnx"]


class Predictor:
    """Classifies texts or continues a prompt with a model folder's network.

    Args:
        pretrained: the network with its vocabulary, tokeniser and labels.
        backend: "auto", "fp32", "bf16", "int8", "torchscript" or "onnx" (see the module's
            docstring).
        batch_size: documents per forward pass; batches hold documents of similar length.
        folder: the model folder, where the torchscript and onnx backends find their graph.
    """

    def __init__(
        self,
        pretrained: Pretrained,
        backend: Backend = "auto",
        batch_size: int = 64,
        folder: str | Path | None = None,
    ):
        if backend not in get_args(Backend):
            raise ValueError(f"backend {backend!r}: expected one of {get_args(Backend)}")
        if backend == "auto":
            backend = _fastest_backend(folder)
        if backend == "bf16":
            check_bf16("bf16-mixed", "cpu")
        self.backend = backend
        self.pretrained = pretrained
        self.batch_size = batch_size
        network = pretrained.network.eval()
        for module in network.modules():  # no on-disk layer cache growing with every request
            if isinstance(module, Elmo):
                module.cache = None
        if backend == "int8":
            with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
                warnings.simplefilter("ignore", DeprecationWarning)
                network = torch.ao.quantization.quantize_dynamic(
                    network, {nn.Linear, nn.LSTM, nn.GRU}, dtype=torch.qint8
                )
        self.network = network
        self._forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = network
        if backend in ("torchscript", "onnx"):
            from lightning_nlp.graphs import GRAPH_FILES, load_graph

            if folder is None or pretrained.labels is None:
                raise CheckpointError(
                    f"the {backend} backend runs a classifier's model folder written by "
                    f"lightning-nlp export --{backend} true"
                )
            self._forward = load_graph(Path(folder) / GRAPH_FILES[backend], backend)

    @property
    def labels(self) -> list[str] | None:
        return self.pretrained.labels

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return torch.autocast("cpu", torch.bfloat16, enabled=self.backend == "bf16")

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """One `{"label", "probs": {label: p}}` per text, in input order."""
        labels = self.labels
        if labels is None:
            raise CheckpointError("this model is a language model: use generate(), not predict()")
        probs = self.predict_probs(texts)
        return [
            {"label": labels[int(p.argmax())], "probs": dict(zip(labels, p.tolist()))}
            for p in probs
        ]

    @torch.inference_mode()
    def predict_probs(self, texts: Sequence[str]) -> torch.Tensor:
        """(N, C) class probabilities (fp32), in input order."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not one string")
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("every text must be a string")
        pre = self.pretrained
        table = tokenize_texts(list(texts), pre.tokenizer)
        docs = prediction_documents(table, pre.vocab, pre.max_len, pre.backwards)
        dataset = ClassificationDataset(docs, None, pre.vocab.pad_id)
        out = torch.empty(len(docs), len(self.labels or []))
        for batch in self._batches(dataset):
            with self._autocast():
                logits = self._forward(batch.tokens, batch.lengths)  # (B, C)
            out[batch.index] = logits.float().softmax(-1)
        return out

    def _batches(self, dataset: ClassificationDataset) -> Iterator[Any]:
        if len(dataset):
            for indices in SortishBatchSampler(dataset.lengths, self.batch_size, shuffle=False):
                yield dataset[indices]

    def generate(self, prompt: str = "", **options: Any) -> list[str]:
        """Continues `prompt`; options as `lightning_nlp.generate.generate_text` takes them
        (max_tokens, temperature, top_k, beam_size, length_penalty, num_samples, seed,
        no_repeat_ngram_size)."""
        from lightning_nlp.generate import generate_text

        if self.labels is not None:
            raise CheckpointError("this model is a classifier: use predict(), not generate()")
        pre = self.pretrained
        with self._autocast():
            return generate_text(
                self.network, pre.vocab, pre.tokenizer, prompt, backwards=pre.backwards, **options
            )


def _fastest_backend(folder: str | Path | None) -> Backend:
    """bf16 where the CPU has bf16 units; else the ONNX graph where the folder has one and
    onnxruntime is installed; else int8 (see the module's docstring for the measurements)."""
    if bf16_support("cpu").supported:
        return "bf16"
    from lightning_nlp.graphs import GRAPH_FILES

    if folder is not None and (Path(folder) / GRAPH_FILES["onnx"]).is_file():
        if importlib.util.find_spec("onnxruntime") is not None:
            return "onnx"
    return "int8"


def load(path: str | Path, backend: Backend = "auto", batch_size: int = 64) -> Predictor:
    """A `Predictor` from a model folder, a checkpoint or a run folder."""
    path = Path(path)
    if (path / "pretrained" / CONFIG_FILE).is_file():  # a run folder after `fit`
        path = path / "pretrained"
    if (path / CONFIG_FILE).is_file():
        return Predictor(load_pretrained(path), backend, batch_size, path)
    from lightning_nlp.export import pretrained_from_checkpoint

    return Predictor(pretrained_from_checkpoint(path), backend, batch_size)
