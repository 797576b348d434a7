"""A trained model, ready to use without training code or data: `lightning_nlp.load(path)`.

`path` is a model folder (`config.json`, `model.safetensors`, `vocab.json`: what `fit` leaves
in `<run>/pretrained` and `lightning-nlp export` writes) or a checkpoint / run folder. Nothing is
unpickled: weights come from safetensors or `torch.load(weights_only=True)`. Classifiers get
`predict(texts)`, language models `generate(prompt, ...)`.

Backends: "fp32" (the default: the same network and probabilities as `lightning-nlp predict`);
"bf16" (autocast, on CPUs with AMX/AVX-512 BF16 or on GPUs; refused elsewhere, see
`lightning_nlp.training.precision`; GRU and plain RNN layers keep bf16 weights, see
`stepwise_rnns_in_bf16`); "int8" (dynamic quantisation of the linear and LSTM layers, made at
load time from the fp32 weights); "torchscript" and "onnx" (onnxruntime) run the graphs that
`lightning-nlp export --torchscript true --onnx true` writes into a classifier's model folder
(see `lightning_nlp.inference.graphs`).
int8 covers `nn.Linear`, `nn.LSTM` and `nn.GRU`: AWD-LSTM's weight-dropped LSTMs (which call
`torch.lstm` themselves) stay fp32, only their decoder/head is quantised.

"auto" measures, on this machine, at load: every backend available here (fp32; bf16 where the
CPU has bf16 units; int8; the folder's graphs) runs `AUTO_BATCHES` synthetic batches of
`batch_size` documents of up to `AUTO_LENGTH` words drawn from the vocabulary (a language model:
single sequences fed one word at a time, as generation does), and a backend is accepted only if
its probabilities are within `AUTO_TOLERANCE` (largest absolute difference) of fp32's. The
fastest accepted backend is chosen, fp32 included, so `auto` is never slower than fp32 as
measured. Which backend is fastest depends on the model and the CPU: an SST-2 BiGRU on an AMX
CPU ran 7,542 sentences/s in fp32, 5,068 in bf16 and 8,485 in int8; an IMDb BiLSTM on an AVX2
CPU ran ONNX Runtime at 2.16x fp32's documents/s, int8 at 1.25x. The choice (with the times and
differences measured) is cached in `~/.cache/lightning_nlp/backends.json` (`$XDG_CACHE_HOME`
honoured), keyed by the model's weights and folder, this machine (CPU, bf16 units, threads,
torch and onnxruntime versions), the batch size and the backends available; a later load of
the same model on the same machine reads it instead of measuring again.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lightning_nlp.data.classification.dataset import (
    ClassificationDataset,
    SortishBatchSampler,
    prediction_documents,
)
from lightning_nlp.data.text.io import atomic_write_text
from lightning_nlp.data.text.token_cache import default_cache_dir, tokenize_texts
from lightning_nlp.nn.elmo.elmo import Elmo
from lightning_nlp.nn.elmo.fingerprint import hash_weights
from lightning_nlp.training.precision import bf16_support, check_bf16, emulated_bf16_kernels
from lightning_nlp.weights.checkpoints import CheckpointError
from lightning_nlp.weights.pretrained import CONFIG_FILE, Pretrained, load_pretrained

log = logging.getLogger(__name__)
Backend = Literal["auto", "fp32", "bf16", "int8", "torchscript", "onnx"]
DEFAULT_BACKEND: Backend = "fp32"
AUTO_TOLERANCE = 0.01  # largest absolute probability difference from fp32 that `auto` accepts
AUTO_BATCHES = 4  # synthetic batches `auto` times each backend on
AUTO_LENGTH = 64  # longest synthetic document, in words (a model's max_len if shorter)
AUTO_REPEATS = 3  # timed passes over the batches after a warm-up one; the fastest counts
AUTO_CACHE_FILE = "backends.json"
AUTO_CACHE_VERSION = 1
_SPELLING = threading.Lock()  # an ELMo network's unseen-word table belongs to one call at a time


class Predictor:
    """Classifies texts or continues a prompt with a model folder's network.

    Args:
        pretrained: the network with its vocabulary, tokeniser and labels.
        backend: "fp32" (the default), "bf16", "int8", "torchscript", "onnx", or "auto" (the
            fastest of those measured here whose probabilities are within `AUTO_TOLERANCE` of
            fp32's; see the module's docstring).
        batch_size: documents per forward pass; batches hold documents of similar length.
        folder: the model folder, where the torchscript and onnx backends find their graph
            (and what `auto`'s cached choice is keyed by, with the weights).
    """

    def __init__(
        self,
        pretrained: Pretrained,
        backend: Backend = DEFAULT_BACKEND,
        batch_size: int = 64,
        folder: str | Path | None = None,
    ):
        if backend not in get_args(Backend):
            raise ValueError(f"backend {backend!r}: expected one of {get_args(Backend)}")
        self.auto: dict[str, Any] | None = None  # what `auto` measured (or read from its cache)
        if backend == "auto":
            self.auto = choose_backend(pretrained, batch_size, folder)
            backend = self.auto["backend"]
        self._emulate = backend == "bf16" and check_bf16("bf16-mixed", "cpu")
        self.backend = backend
        self.pretrained = pretrained
        self.batch_size = batch_size
        network = pretrained.network.eval()
        for module in network.modules():  # no on-disk layer cache growing with every request
            if isinstance(module, Elmo):
                module.cache = None
        if backend == "bf16":
            network = stepwise_rnns_in_bf16(network)
        if backend == "int8":
            with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
                network = torch.ao.quantization.quantize_dynamic(
                    network, {nn.Linear, nn.LSTM, nn.GRU}, dtype=torch.qint8
                )
        self.network = network
        self._forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = network
        if backend in ("torchscript", "onnx"):
            from lightning_nlp.inference.graphs import GRAPH_FILES, load_graph

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
        stack = contextlib.ExitStack()
        if self._emulate:  # no bf16 units: emulated for this call only
            stack.enter_context(emulated_bf16_kernels())
        stack.enter_context(torch.autocast("cpu", torch.bfloat16, enabled=self.backend == "bf16"))
        return stack

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
        if not hasattr(self.network, "spell_unseen"):
            return self._classify(
                prediction_documents(table, pre.vocab, pre.max_len, pre.backwards)
            )
        # ELMo reads words it has no row for by their spelling (as the CLI, whose ELMo runs set
        # --data.eval_words_in_vocab true): ids after the vocabulary, for this call only
        vocab = pre.vocab.extended(table.types)
        with _SPELLING:
            self.network.spell_unseen(vocab.itos[len(pre.vocab) :])
            return self._classify(prediction_documents(table, vocab, pre.max_len, pre.backwards))

    def _classify(self, docs: list[Any]) -> torch.Tensor:
        dataset = ClassificationDataset(docs, None, self.pretrained.vocab.pad_id)
        out = torch.empty(len(docs), len(self.labels or []))
        for batch in self._batches(dataset):
            out[batch.index] = self._probs(batch.tokens, batch.lengths)
        return out

    def _probs(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """A classifier's (B, C) probabilities of a padded batch (B, T); a language model's
        (B, T, V) next-word probabilities, fed one word at a time as `generate` does."""
        with self._autocast():
            if self.labels is not None:
                logits = self._forward(tokens, lengths)  # (B, C)
            else:
                step, hidden = self.network(tokens[:, :1])[:2]  # (B, 1, V)
                steps = [step.float()]
                for t in range(1, tokens.shape[1]):
                    step, hidden = self.network(tokens[:, t : t + 1], hidden)[:2]
                    steps.append(step.float())
                logits = torch.cat(steps, 1)  # (B, T, V)
        return logits.float().softmax(-1)

    def _batches(self, dataset: ClassificationDataset) -> Iterator[Any]:
        if len(dataset):
            for indices in SortishBatchSampler(dataset.lengths, self.batch_size, shuffle=False):
                yield dataset[indices]

    def generate(self, prompt: str = "", **options: Any) -> list[str]:
        """Continues `prompt`; options as `lightning_nlp.inference.generation.generate_text` takes them
        (max_tokens, temperature, top_k, beam_size, length_penalty, num_samples, seed,
        no_repeat_ngram_size)."""
        from lightning_nlp.inference.generation import generate_text

        if self.labels is not None:
            raise CheckpointError("this model is a classifier: use predict(), not generate()")
        pre = self.pretrained
        with self._autocast():
            return generate_text(
                self.network, pre.vocab, pre.tokenizer, prompt, backwards=pre.backwards, **options
            )


def stepwise_rnns_in_bf16(network: nn.Module) -> nn.Module:
    """A copy of `network` whose GRU and plain RNN layers hold bf16 weights. PyTorch runs them
    step by step (oneDNN's fused kernel is the LSTM's only), and under autocast each step's
    products would cast the fp32 weights to bf16 again: measured on an AMX CPU, an SST-2 BiGRU
    predicted at 0.6-0.95x fp32's speed that way, 1.07-1.14x with bf16 weights (probabilities
    within 0.01 of fp32's either way). Their inputs are cast to bf16 once per call."""
    stepwise = [m for m in network.modules() if isinstance(m, nn.GRU | nn.RNN)]
    if not stepwise:
        return network
    network = copy.deepcopy(network)  # `auto` measures fp32 on the same network afterwards
    for module in network.modules():
        if isinstance(module, nn.GRU | nn.RNN):
            module.to(torch.bfloat16)
            module.register_forward_pre_hook(_inputs_to_bf16)
    return network


def _inputs_to_bf16(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x, *rest = args
    if isinstance(x, PackedSequence):
        x = x._replace(data=x.data.to(torch.bfloat16))
    else:
        x = x.to(torch.bfloat16)
    return (x, *(h.to(torch.bfloat16) if isinstance(h, torch.Tensor) else h for h in rest))


def candidate_backends(pretrained: Pretrained, folder: str | Path | None) -> list[str]:
    """The backends `auto` measures here, fp32 first: bf16 where the CPU has bf16 units, int8,
    and a classifier folder's TorchScript / ONNX graphs (ONNX where onnxruntime is installed)."""
    names = ["fp32"]
    if bf16_support("cpu").supported:
        names.append("bf16")
    names.append("int8")
    if folder is not None and pretrained.labels is not None:
        from lightning_nlp.inference.graphs import GRAPH_FILES

        for fmt in ("torchscript", "onnx"):
            if (Path(folder) / GRAPH_FILES[fmt]).is_file() and (
                fmt != "onnx" or importlib.util.find_spec("onnxruntime") is not None
            ):
                names.append(fmt)
    return names


def synthetic_batches(pretrained: Pretrained, batch_size: int) -> list[tuple[torch.Tensor, ...]]:
    """`AUTO_BATCHES` (tokens (B, T), lengths (B,)) of words drawn from the vocabulary (seeded):
    a classifier's hold `batch_size` documents of AUTO_LENGTH / 2 to AUTO_LENGTH words (its
    max_len if shorter), padded; a language model's one sequence of AUTO_LENGTH / 2 words."""
    generator = torch.Generator().manual_seed(0)
    vocab = pretrained.vocab
    low = min(4, len(vocab) - 1)  # past <pad>, <unk>, <bos>, <eos>
    classifier = pretrained.labels is not None
    longest = min(AUTO_LENGTH, pretrained.max_len or AUTO_LENGTH)
    batches = []
    for _ in range(AUTO_BATCHES):
        if classifier:
            lengths = torch.randint(
                max(1, longest // 2), longest + 1, (batch_size,), generator=generator
            )
        else:
            lengths = torch.full((1,), AUTO_LENGTH // 2)
        tokens = torch.randint(
            low, len(vocab), (len(lengths), int(lengths.max())), generator=generator
        )
        tokens[torch.arange(tokens.shape[1]) >= lengths.unsqueeze(1)] = vocab.pad_id
        batches.append((tokens, lengths))
    return batches


@torch.inference_mode()
def run_backend(predictor: Predictor, batches: Sequence[tuple[torch.Tensor, ...]]) -> torch.Tensor:
    """The predictor's probabilities over `batches`, flattened into one vector."""
    return torch.cat([predictor._probs(tokens, lengths).flatten() for tokens, lengths in batches])


def time_backend(predictor: Predictor, batches: Sequence[tuple[torch.Tensor, ...]]) -> float:
    """Seconds one pass over `batches` takes: the fastest of `AUTO_REPEATS` passes after a
    warm-up one."""
    run_backend(predictor, batches)
    best = float("inf")
    for _ in range(AUTO_REPEATS):
        start = time.perf_counter()
        run_backend(predictor, batches)
        best = min(best, time.perf_counter() - start)
    return best


def machine_key() -> dict[str, Any]:
    """What a backend's speed depends on besides the model."""
    support = bf16_support("cpu")
    try:
        onnxruntime = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        onnxruntime = None
    return {
        "cpu": support.name,
        "capability": support.capability,
        "bf16_units": support.units,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime,
    }


def auto_cache_path() -> Path:
    return default_cache_dir() / AUTO_CACHE_FILE


def _read_cache(path: Path) -> dict[str, Any]:
    """The cache's entries; none when the file is missing, unreadable or not this format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != AUTO_CACHE_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, key: str, entry: dict[str, Any]) -> None:
    entries = _read_cache(path)  # others' entries kept; a corrupt file is replaced
    entries[key] = entry
    text = json.dumps({"version": AUTO_CACHE_VERSION, "entries": entries}, indent=1)
    try:
        atomic_write_text(path, text + "\n")
    except OSError as error:
        log.warning("backend choice not cached in %s: %s", path, error)


def choose_backend(
    pretrained: Pretrained, batch_size: int, folder: str | Path | None = None
) -> dict[str, Any]:
    """`auto`'s choice for this model on this machine, measured or read from the cache: a dict
    with "backend", and what was measured ("seconds" and "max_abs_diff" per backend accepted,
    "rejected": {backend: why}). A backend is accepted when its probabilities are within
    `AUTO_TOLERANCE` (max absolute difference) of fp32's; the fastest accepted one is chosen."""
    candidates = candidate_backends(pretrained, folder)
    identity = {
        "folder": str(Path(folder).resolve()) if folder is not None else None,
        "weights": hash_weights(pretrained.network),
        "machine": machine_key(),
        "batch_size": batch_size,
        "candidates": candidates,
        "tolerance": AUTO_TOLERANCE,
        "synthetic": [AUTO_BATCHES, AUTO_LENGTH],
    }
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
    path = auto_cache_path()
    cached = _read_cache(path).get(key)
    if isinstance(cached, dict) and cached.get("backend") in candidates:
        return cached
    entry = _measure(pretrained, batch_size, folder, candidates)
    entry.update(identity, measured=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    _write_cache(path, key, entry)
    return entry


def _measure(
    pretrained: Pretrained, batch_size: int, folder: str | Path | None, candidates: list[str]
) -> dict[str, Any]:
    batches = synthetic_batches(pretrained, batch_size)
    reference = Predictor(pretrained, "fp32", batch_size, folder)
    expected = run_backend(reference, batches)
    seconds = {"fp32": time_backend(reference, batches)}
    differences = {"fp32": 0.0}
    rejected: dict[str, str] = {}
    for name in candidates[1:]:
        try:
            predictor = Predictor(pretrained, name, batch_size, folder)  # type: ignore[arg-type]
            difference = float((run_backend(predictor, batches) - expected).abs().max())
        except Exception as error:  # noqa: BLE001 (a backend that cannot run here is skipped)
            rejected[name] = f"failed: {type(error).__name__}: {error}"
            continue
        if not difference <= AUTO_TOLERANCE:  # NaN is refused too
            rejected[name] = f"max abs probability difference {difference:.3g} > {AUTO_TOLERANCE}"
            continue
        differences[name] = difference
        seconds[name] = time_backend(predictor, batches)
    chosen = min(seconds, key=seconds.__getitem__)  # fp32 first: kept on a tie
    log.info("auto backend: %s (seconds %s, rejected %s)", chosen, seconds, rejected)
    return {
        "backend": chosen,
        "seconds": seconds,
        "max_abs_diff": differences,
        "rejected": rejected,
    }


def load(path: str | Path, backend: Backend = DEFAULT_BACKEND, batch_size: int = 64) -> Predictor:
    """A `Predictor` from a model folder, a checkpoint or a run folder; backend as `Predictor`
    takes it (fp32 by default, "auto" for the fastest measured here within `AUTO_TOLERANCE`)."""
    path = Path(path)
    if (path / "pretrained" / CONFIG_FILE).is_file():  # a run folder after `fit`
        path = path / "pretrained"
    if (path / CONFIG_FILE).is_file():
        return Predictor(load_pretrained(path), backend, batch_size, path)
    from lightning_nlp.weights.pretrained import pretrained_from_checkpoint

    return Predictor(pretrained_from_checkpoint(path), backend, batch_size)
