"""`lightning-nlp ulmfit`: ULMFiT's stages in one command (Howard & Ruder 2018), and the same
classifier from random initialisation, tested side by side.

Stages, each an ordinary `fit` of its config in its own run folder:
1. `--lm`: a general language model (skipped when not given);
2. `--finetune`: the language model fine-tuned on the target corpus's text, starting from
   stage 1's model folder (skipped when not given);
   `--pretrained FOLDER` instead starts from a model folder made before (a converted
   WikiText-103 model, or the `pretrained` folder of an earlier language-model run);
3. `--classifier`: the classifier on the last language model's vocabulary and encoder;
4. the same classifier config with no pretrained encoder (`--scratch false` skips it), by
   default trained with all layers at one learning rate (`--scratch_args`): gradual
   unfreezing would freeze random layers.
Both classifiers are tested with their best checkpoint; the accuracies, wall times and a
beam-search continuation by the language model are printed and saved to `<classifier run>/recipe.json`.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentParser

from lightning_nlp.data.text.io import atomic_write_text
from lightning_nlp.tasks.base import EXPORT_FOLDER

# The classifier from random initialisation: one learning rate, no gradual unfreezing (it would
# freeze random layers), and a slanted triangular schedule of its own (a config whose callback
# set each stage's rate has no other schedule).
SCRATCH_ARGS = (
    "--model.lr_decay null --trainer.callbacks=[] "
    "--model.lr_scheduler lightning_nlp.training.schedules.SlantedTriangularLR"
)


@dataclass
class StageResult:
    name: str
    run_dir: str
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)


def fit_stage(name: str, config: str, args: list[str], test: bool = False) -> StageResult:
    """`lightning-nlp fit --config CONFIG ARGS` in this process; with `test`, then the test
    of its best checkpoint. Returns the run folder, wall time and validation/test metrics (with
    `test`, the monitored validation metric is the best checkpoint's, the model tested)."""
    from lightning_nlp.cli import run_cli

    start = time.perf_counter()
    cli = run_cli(["--config", config, *args], run=False)
    cli.before_fit()  # what `lightning-nlp fit` does first: artifacts saved, seed logged
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("val/")}
    if test:
        checkpoints = cli.trainer.checkpoint_callback
        ckpt = "best" if checkpoints is not None else None
        if checkpoints is not None and checkpoints.best_model_score is not None:
            # the model tested is the best checkpoint: its score, not the last epoch's
            metrics[checkpoints.monitor] = float(checkpoints.best_model_score)
        for row in cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=ckpt):
            metrics.update({k: float(v) for k, v in row.items()})
    _finish_wandb_run()
    return StageResult(name, str(cli.run_dir), time.perf_counter() - start, metrics)


def _finish_wandb_run() -> None:
    """Ends the stage's W&B run: Lightning's logger reuses an active run, so the next stage
    would otherwise log into this one (and its folder)."""
    import sys

    wandb = sys.modules.get("wandb")  # imported only if a stage logged to W&B
    if wandb is not None and wandb.run is not None:
        wandb.finish()


def lm_continuation(model_folder: str | Path, prompt: str, max_tokens: int = 40) -> str:
    """The language model's beam-search continuation of `prompt` (5 beams, no repeated
    3-gram, length-normalised)."""
    from lightning_nlp.inference.generation import generate_text
    from lightning_nlp.weights.pretrained import load_pretrained

    model = load_pretrained(model_folder)
    model.network.eval()
    return generate_text(
        model.network, model.vocab, model.tokenizer, prompt, max_tokens, beam_size=5,
        no_repeat_ngram_size=3,
    )[0]  # fmt: skip


def pretrain_stages(
    lm: str | None,
    finetune: str | None,
    lm_args: str = "",
    finetune_args: str = "",
    pretrained: str | None = None,
) -> tuple[list[StageResult], Path | None]:
    """Stages 1 and 2 (each skipped when its config is not given), starting from `pretrained`
    if given; returns them and the last language model's folder (None if there is none)."""
    stages: list[StageResult] = []
    folder = None if pretrained is None else Path(pretrained)
    for name, config, extra in (("lm", lm, lm_args), ("finetune", finetune, finetune_args)):
        if config is None:
            continue
        args = shlex.split(extra)
        if folder is not None:
            args += ["--model.pretrained", str(folder)]
        stages.append(fit_stage(name, config, args))
        folder = Path(stages[-1].run_dir) / EXPORT_FOLDER
    return stages, folder


def run_recipe(
    classifier: str,
    lm: str | None = None,
    finetune: str | None = None,
    lm_args: str = "",
    finetune_args: str = "",
    classifier_args: str = "",
    scratch: bool = True,
    scratch_args: str = SCRATCH_ARGS,
    prompt: str = "",
    pretrained: str | None = None,
) -> dict[str, Any]:
    """Runs the stages (see the module docstring) and returns what they measured."""
    stages, folder = pretrain_stages(lm, finetune, lm_args, finetune_args, pretrained)
    if folder is None:
        raise ValueError(
            "give --lm, --finetune or --pretrained: the classifier needs a language model"
        )
    common = ["--data.vocab_path", str(folder / "vocab.json"), *shlex.split(classifier_args)]
    stages.append(
        fit_stage("classifier", classifier, [*common, "--model.pretrained", str(folder)], True)
    )
    if scratch:
        args = [*common, "--model.pretrained", "null", *shlex.split(scratch_args)]
        stages.append(fit_stage("scratch_classifier", classifier, args, test=True))
    result = {
        "started_from": pretrained,
        "stages": [asdict(s) for s in stages],
        "total_seconds": sum(s.seconds for s in stages),
        "lm_sample": lm_continuation(folder, prompt),
    }
    atomic_write_text(
        Path(stages[-1 - scratch].run_dir) / "recipe.json", json.dumps(result, indent=2)
    )
    return result


def format_result(result: dict[str, Any]) -> str:
    lines = [f"{'stage':<20}{'test acc':>10}{'val':>10}{'minutes':>9}  run folder"]
    for stage in result["stages"]:
        metrics = stage["metrics"]
        test = f"{metrics['test/acc']:.4f}" if "test/acc" in metrics else "-"
        val = metrics.get("val/acc", metrics.get("val/ppl"))
        val_text = "-" if val is None else f"{val:.4g}"
        lines.append(
            f"{stage['name']:<20}{test:>10}{val_text:>10}{stage['seconds'] / 60:>9.1f}  {stage['run_dir']}"
        )
    lines.append(f"total: {result['total_seconds'] / 60:.1f} minutes")
    if "lm_sample" in result:
        lines.append(f"language-model sample: {result['lm_sample']}")
    return "\n".join(lines)


def recipe_cli(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lightning-nlp ulmfit", description=__doc__)
    parser.add_function_arguments(run_recipe, as_positional=False)
    config = parser.parse_args(argv)
    print(format_result(run_recipe(**config.as_dict())))  # noqa: T201


def run_comparison(
    configs: list[str], common_args: str = "", extra_args: list[str] | None = None
) -> dict[str, Any]:
    """Fits each config (with `common_args`, and its own entry of `extra_args`) and tests its
    best checkpoint: e.g. an ELMo classifier and the same classifier on random embeddings."""
    extra_args = extra_args or [""] * len(configs)
    if len(extra_args) != len(configs):
        raise ValueError(f"{len(extra_args)} extra_args for {len(configs)} configs")
    stages = [
        fit_stage(Path(config).stem, config, shlex.split(common_args) + shlex.split(extra), True)
        for config, extra in zip(configs, extra_args)
    ]
    result = {
        "stages": [asdict(s) for s in stages],
        "total_seconds": sum(s.seconds for s in stages),
    }
    atomic_write_text(Path(stages[0].run_dir) / "comparison.json", json.dumps(result, indent=2))
    return result


def compare_cli(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lightning-nlp compare", description=run_comparison.__doc__)
    parser.add_function_arguments(run_comparison, as_positional=False)
    config = parser.parse_args(argv)
    print(format_result(run_comparison(**config.as_dict())))  # noqa: T201
