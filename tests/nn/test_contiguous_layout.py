"""Every matrix product of every network reads its activations contiguous.

A batch-first recurrent output is a transposed view (strides (H, B * H, 1)). A linear layer on
it, with no gradient to keep (`torch.inference_mode`, where Lightning evaluates and predicts),
cannot fold it into one matrix and runs a batched product over a broadcast weight, which
oneDNN's bf16 kernels (AMX) take ~20x slower. The layout is checked here, so a regression shows
on any CPU, with or without bf16 units.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from lightning_nlp.data.text.vocab import SPECIALS
from lightning_nlp.nn.awd_lstm.classifier import AWDLSTMClassifier
from lightning_nlp.nn.awd_lstm.language_model import AWDLSTMLanguageModel
from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.characters import batch_char_ids
from lightning_nlp.nn.elmo.classifier import ElmoClassifier
from lightning_nlp.nn.elmo.elmo import Elmo
from lightning_nlp.nn.elmo.language_model import BiLMLanguageModel
from lightning_nlp.nn.generation import beam_search, sample
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier, RNNClassifier
from lightning_nlp.training.precision import bf16_support

FILTERS = [[1, 4], [2, 5], [3, 3]]
BILM = dict(filters=FILTERS, char_dim=4, num_highway=1, projection_dim=6, cell_dim=8)
WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
MATMULS = {
    F.linear,
    F.bilinear,
    torch.matmul,
    torch.mm,
    torch.bmm,
    torch.addmm,
    torch.baddbmm,
    torch.einsum,
    Tensor.__matmul__,
    Tensor.matmul,
    Tensor.mm,
    Tensor.bmm,
}
ADDED_TERM_FIRST = {torch.addmm, torch.baddbmm}


class MatmulLayouts(TorchFunctionMode):
    """Records each matrix product given a non-contiguous activation (any tensor operand but
    a parameter or a view of one, such as `weight.T`), with the module that ran it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.parameters = {id(p) for p in model.parameters()}
        self.modules: list[str] = []
        self.strided: list[str] = []
        for name, module in model.named_modules():
            module.register_forward_pre_hook(self._enter(name))
            module.register_forward_hook(self._leave)

    def _enter(self, name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple) -> None:
            self.modules.append(name)

        return hook

    def _leave(self, module: nn.Module, args: tuple, output: object) -> None:
        self.modules.pop()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS:
            operands = [*args, *kwargs.values()]
            if func in ADDED_TERM_FIRST:  # the term added (input), copied to the result: any layout
                operands = [*args[1:], *(v for k, v in kwargs.items() if k != "input")]
            operands += [t for a in args if isinstance(a, (list, tuple)) for t in a]  # einsum
            for t in operands:
                if isinstance(t, Tensor) and t.dim() >= 2 and not self._parameter(t):
                    if not t.is_contiguous():
                        where = self.modules[-1] if self.modules else "?"
                        self.strided.append(
                            f"{func.__name__} in '{where}': {tuple(t.shape)} {t.stride()}"
                        )
        return func(*args, **kwargs)

    def _parameter(self, t: Tensor) -> bool:
        return id(t) in self.parameters or (t._base is not None and id(t._base) in self.parameters)


def _tokens(batch: int = 3, steps: int = 7, vocab: int = 40) -> tuple[Tensor, Tensor]:
    tokens = torch.randint(4, vocab, (batch, steps))
    lengths = torch.tensor([steps, 4, 1, 6, 2][:batch])
    tokens[lengths[:, None] <= torch.arange(steps)] = 0
    return tokens, lengths


def _classifier(model: nn.Module) -> tuple[nn.Module, Callable[[], object]]:
    tokens, lengths = _tokens()
    return model, lambda: model(tokens, lengths)


def _padded(model: RNNClassifier) -> RNNClassifier:
    model.packed = False  # the exported graphs' path
    return model


def _language_model(model: nn.Module) -> tuple[nn.Module, Callable[[], object]]:
    tokens, _ = _tokens()
    return model, lambda: model(tokens)


def _generation(model: nn.Module) -> tuple[nn.Module, Callable[[], object]]:
    prompt = torch.tensor([5, 6, 7])

    def generate() -> None:
        sample(model, prompt, 3, generator=torch.Generator().manual_seed(0))
        beam_search(model, prompt, 3, beam_size=3)

    return model, generate


def _bilm_lm(softmax: str) -> tuple[nn.Module, Callable[[], object]]:
    sentences = [WORDS[:5], WORDS[2:4], WORDS[3:8]]
    chars = batch_char_ids(sentences)
    targets = torch.full((len(sentences), chars.shape[1] + 2), -1)
    for row, sentence in enumerate(sentences):
        targets[row, : len(sentence) + 2] = torch.tensor([2, *range(4, 4 + len(sentence)), 3])
    model = BiLMLanguageModel(20, softmax=softmax, cutoffs=[8], **BILM)
    return model, lambda: model(chars, targets)


def _elmo() -> tuple[nn.Module, Callable[[], object]]:
    chars = batch_char_ids([WORDS[:5], WORDS[2:4], WORDS[3:8]])
    model = Elmo(BiLM(**BILM), num_outputs=2, layer_norm=True, freeze=False)
    return model, lambda: model(chars)


def _elmo_classifier(**kwargs) -> tuple[nn.Module, Callable[[], object]]:
    itos = [*SPECIALS, *WORDS]
    model = ElmoClassifier(len(itos), 3, BiLM(**BILM).init_args, **kwargs)
    model.set_vocabulary(itos)
    tokens, lengths = _tokens(vocab=len(itos))
    return model, lambda: model(tokens, lengths)


CASES: dict[str, Callable[[], tuple[nn.Module, Callable[[], object]]]] = {
    "lstm_lm": lambda: _language_model(LSTMLanguageModel(40, 8, 12, 2)),
    "lstm_lm_untied": lambda: _language_model(LSTMLanguageModel(40, 8, 12, 1, tie_weights=False)),
    "lstm_lm_generation": lambda: _generation(LSTMLanguageModel(40, 8, 12, 2)),
    "awd_lstm_lm": lambda: _language_model(AWDLSTMLanguageModel(40, 8, 12, 3)),
    "awd_lstm_generation": lambda: _generation(AWDLSTMLanguageModel(40, 8, 12, 2)),
    "awd_lstm_classifier": lambda: _classifier(
        AWDLSTMClassifier(40, 3, embed_dim=8, hidden_dim=12, bptt=3, max_len=5)
    ),
    "averaged_embedding": lambda: _classifier(AveragedEmbeddingClassifier(40, 8, 3, 5)),
    **{
        f"{cell}_{pooling}_{'bi' if bi else 'uni'}_{'packed' if packed else 'padded'}": (
            lambda cell=cell, pooling=pooling, bi=bi, packed=packed: _classifier(
                (lambda m: m if packed else _padded(m))(
                    RNNClassifier(40, 8, 6, 3, cell, 2, bi, pooling, 0.1, head_hidden_dim=5)
                )
            )
        )
        for cell, pooling, bi in [
            ("lstm", "last", True),
            ("lstm", "mean", True),
            ("gru", "max", True),
            ("rnn", "mean", False),
            ("lstm", "max", False),
        ]
        for packed in (True, False)
    },
    "bilm_lm_full": lambda: _bilm_lm("full"),
    "bilm_lm_adaptive": lambda: _bilm_lm("adaptive"),
    "elmo": _elmo,
    "elmo_classifier": lambda: _elmo_classifier(hidden_dim=5, head_hidden_dim=4),
    "elmo_classifier_embedding_output_mean": lambda: _elmo_classifier(
        embed_dim=5, hidden_dim=5, bidirectional=True, pooling="mean", elmo_output=True
    ),
}
PRECISIONS = [
    "fp32",
    pytest.param(
        "bf16",
        marks=pytest.mark.skipif(
            not bf16_support().supported, reason="no bf16 units: LSTM kernels lack bf16 here"
        ),
    ),
]


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("mode", ["train", "inference"])
@pytest.mark.parametrize("case", list(CASES))
def test_matrix_products_read_contiguous_activations(case, mode, precision):
    torch.manual_seed(0)
    model, run = CASES[case]()
    model.train(mode == "train")
    layouts = MatmulLayouts(model)
    autocast = torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16")
    grad = contextlib.nullcontext() if mode == "train" else torch.inference_mode()
    with grad, autocast, layouts:
        run()
    assert not layouts.strided, "non-contiguous inputs of matrix products:\n" + "\n".join(
        layouts.strided
    )


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_classic_classifier_pools_in_fp32_under_bf16(pooling):
    """As the ULMFiT classifier does (and the README says): the pooled features are fp32 under
    bf16 autocast, so a mean over a long document does not drift in bf16."""
    from lightning_nlp.nn.text_classifiers import RNNClassifier
    from lightning_nlp.training.precision import emulated_bf16_kernels

    network = RNNClassifier(30, 8, 8, 2, cell="lstm", pooling=pooling, bidirectional=True)
    tokens = torch.randint(1, 30, (3, 12))
    lengths = torch.tensor([12, 5, 1])
    # the LSTM kernels return bf16 as AMX's do (emulated, so any CPU checks it)
    with emulated_bf16_kernels(), torch.autocast("cpu", dtype=torch.bfloat16):
        features = network.encode(tokens, lengths)
    assert features.dtype == torch.float32 and features.shape == (3, 16)
