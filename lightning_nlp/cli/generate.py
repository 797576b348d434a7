"""`lightning-nlp generate`: sample or beam-search text from a language-model checkpoint."""

from __future__ import annotations

import inspect
from typing import Literal

from jsonargparse import ActionConfigFile, ArgumentParser

from lightning_nlp.cli.config_sections import accept_ignored_sections
from lightning_nlp.inference.generation import generate_text  # noqa: F401 (its documented path)
from lightning_nlp.tasks.language_model import LanguageModelTask
from lightning_nlp.weights.checkpoints import (
    check_task,
    read_checkpoint,
    resolve_checkpoint,
)


def generate(
    ckpt_path: str,
    prompt: str = "",
    max_tokens: int = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
    beam_size: int = 1,
    length_penalty: float = 1.0,
    num_samples: int = 1,
    seed: int = 0,
    precision: Literal["32-true", "bf16-mixed"] = "32-true",
    no_repeat_ngram_size: int = 3,
) -> list[str]:
    """Continues `prompt` with text from the model at `ckpt_path`.

    Args:
        ckpt_path: a checkpoint of `LanguageModelTask`, or a run folder (its last.ckpt).
        prompt: text to continue; empty starts at a document boundary.
        max_tokens: most tokens to add; generation also stops at `<eos>`.
        temperature: softmax temperature for sampling; 0 decodes greedily.
        top_k: sample only among the k most likely tokens.
        beam_size: above 1, runs beam search instead of sampling.
        length_penalty: beam score is log p / length ** length_penalty.
        no_repeat_ngram_size: beam search never repeats an n-gram of this size (0: off).
        num_samples: how many continuations to sample.
        seed: sampling seed; the same seed gives the same text.
        precision: "bf16-mixed" runs the model under bf16 autocast (CPUs with AMX or
            AVX-512 BF16; refused elsewhere, see `lightning-nlp bf16`).
    """
    from lightning_nlp.inference.predictor import Predictor
    from lightning_nlp.weights.pretrained import pretrained_from_checkpoint

    path = resolve_checkpoint(ckpt_path)
    checkpoint = read_checkpoint(path)
    check_task(checkpoint, LanguageModelTask, path)
    backend = "bf16" if precision == "bf16-mixed" else "fp32"
    return Predictor(pretrained_from_checkpoint(path, checkpoint), backend).generate(
        prompt,
        max_tokens=max_tokens,
        temperature=temperature,
        top_k=top_k,
        beam_size=beam_size,
        length_penalty=length_penalty,
        no_repeat_ngram_size=no_repeat_ngram_size,
        num_samples=num_samples,
        seed=seed,
    )


def generate_cli(args: list[str]) -> None:
    """Prints each generated text on its own line. Takes `--config` files like the other
    subcommands: their generation keys (`ckpt_path`, `prompt`, ...) are read, the trainer, model
    and data sections ignored."""
    parser = ArgumentParser(description="Sample or beam-search text from a language model.")
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_function_arguments(generate, None, as_group=False)
    accept_ignored_sections(parser, "data")
    config = parser.parse_args(args)
    options = {k: v for k, v in config.as_dict().items() if k in _GENERATE_ARGS}
    for text in generate(**options):
        print(text)  # noqa: T201  (the command's output)


_GENERATE_ARGS = set(inspect.signature(generate).parameters)
