"""`lightning-nlp`: LightningCLI's fit/validate/test/predict, plus generate, train-vectors, baseline.

Every run writes into one folder of its own, `<default_root_dir>/version_N`, where
`default_root_dir` defaults to `runs/<config path under configs/>`: checkpoints, the resolved
config, the vocabulary and labels, reports and the logger's files. Two runs never share one.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import warnings
from argparse import RawDescriptionHelpFormatter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonargparse import DefaultHelpFormatter, Namespace
from pytorch_lightning.cli import LightningCLI
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.tasks.base import TrainingDiverged
from lightning_nlp.training.callbacks.jsonl_prediction_writer import (
    JSONLPredictionWriter,
    stdout_for_predictions_only,
)
from lightning_nlp.training.callbacks.learning_rates import LearningRateLogger
from lightning_nlp.training.loggers import RUN_DIR_ENV, default_logger_config, new_run_dir
from lightning_nlp.training.precision import PrecisionError
from lightning_nlp.weights.checkpoints import (
    CheckpointError,
    check_task,
    import_class,
    read_checkpoint,
    resolve_checkpoint,
)

PROGRESS_BAR = "lightning_nlp.training.callbacks.progress.LogFriendlyProgressBar"
FILE_LOGGERS = ("CSVLogger", "TensorBoardLogger")  # loggers that add name/version subfolders
CSV_LOGGER = "pytorch_lightning.loggers.CSVLogger"
EXTRA_COMMANDS = {
    "generate": "sample or beam-search text from a language-model checkpoint",
    "train-vectors": "train word2vec/fastText vectors with gensim on a corpus's training texts",
    "baseline": "linear baselines (NB or TF-IDF n-gram, mean word vector) on a classification corpus",
    "export": "a checkpoint as a self-describing model folder (lightning_nlp.load reads it)",
    "serve": 'an HTTP endpoint (LitServe) for a model folder: POST /predict {"text": ...}',
    "bf16": "whether this machine runs bf16 mixed precision fast (AMX / AVX-512 BF16 / GPU)",
    "ulmfit": "ULMFiT's stages (LM, fine-tuning, classifier) and a classifier from scratch",
    "convert": "turn fastai's published AWD-LSTM weights into a model folder",
    "ensemble": "average the probabilities of prediction files or tested runs (fwd + bwd)",
    "compare": "fit and test several configs on the same data, side by side (ELMo vs random)",
    "curve": "test accuracy against labelled documents: ULMFiT, scratch, linear baselines",
}
HELP_EPILOG = (
    "other subcommands (each with its own --help, taking the same --config files):\n"
    + "".join(f"  {name:<15}{text}\n" for name, text in EXTRA_COMMANDS.items())
)


class _HelpFormatter(RawDescriptionHelpFormatter, DefaultHelpFormatter):
    """Keeps the epilog's one-subcommand-a-line layout."""


class LightningNLPCLI(LightningCLI):
    """Wires data-derived sizes into the model, gives each run its folder, and loads the
    vocabulary from the checkpoint when evaluating or predicting."""

    run_dir: Path

    def add_arguments_to_parser(self, parser) -> None:  # noqa: ANN001 (jsonargparse parser)
        # A link whose source the chosen data module lacks (num_classes for a language-model
        # corpus) or whose target the model lacks is skipped, so one CLI serves every task.
        for name in ("vocab_size", "num_classes", "pad_id"):
            parser.link_arguments(
                f"data.{name}", f"model.init_args.network.init_args.{name}", apply_on="instantiate"
            )
        # `predict` writes JSON lines to stdout, or to --predictions.output FILE
        parser.add_lightning_class_args(JSONLPredictionWriter, "predictions")

    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any) -> Any:
        """Only `fit` opens a W&B run by default. `predict` logs nothing (its stdout is the
        predictions, and a loop of predictions must not leave a W&B run per call); `validate`
        and `test` keep their metrics in the run folder's `metrics.csv`. `--trainer.logger`
        still chooses any logger for any subcommand."""
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        if subcommand == "predict":
            parser.set_defaults({"trainer.logger": False})
        elif subcommand in ("validate", "test"):
            csv = {"class_path": CSV_LOGGER, "init_args": {"save_dir": "."}}
            parser.set_defaults({"trainer.logger": csv})
        return parser

    def _section(self) -> Namespace:
        """The parsed config of this run (under its subcommand, if run as one)."""
        return self.config[self.subcommand] if self.subcommand else self.config

    def before_instantiate_classes(self) -> None:
        config = self._section()
        trainer = config.trainer
        if os.environ.get(RUN_DIR_ENV):  # a rank started by this run's launching process
            self.run_dir = Path(os.environ[RUN_DIR_ENV])
        else:
            self.run_dir = new_run_dir(trainer.default_root_dir or default_root(config))
            os.environ[RUN_DIR_ENV] = str(self.run_dir)  # inherited by the ranks Lightning starts
        self._root = trainer.default_root_dir  # restored before config.yaml is written
        if sync_batchnorm_wanted(str(trainer.accelerator)):
            trainer.sync_batchnorm = True  # under DDP batch norm sees the whole step's batch
        trainer.default_root_dir = str(self.run_dir)
        for logger in _as_list(trainer.logger):
            if isinstance(logger, Namespace) and "init_args" in logger:
                logger.init_args.save_dir = str(self.run_dir)
                if logger.class_path.rsplit(".", 1)[-1] in FILE_LOGGERS:
                    logger.init_args.name, logger.init_args.version = "", ""
        callbacks = _as_list(trainer.callbacks)
        if trainer.enable_progress_bar is not False and not any(
            "ProgressBar" in getattr(c, "class_path", "") for c in callbacks
        ):
            trainer.callbacks = [
                *callbacks,
                Namespace(class_path=PROGRESS_BAR, init_args=Namespace()),
            ]
        saved_vocab = self.run_dir / "vocab.json"
        init_args = config.data.get("init_args", config.data)
        if saved_vocab.is_file() and "vocab_path" in init_args and not init_args.vocab_path:
            init_args.vocab_path = str(saved_vocab)  # written before this rank was started

    def parse_arguments(self, parser: Any, args: Any) -> None:
        """Parses, then checks a given checkpoint against the config's task before Lightning
        takes the model's hyperparameters from it."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        if subcommand is None or not config.get("ckpt_path"):
            return
        path = resolve_checkpoint(config.ckpt_path)
        config.ckpt_path = str(path)
        check_task(read_checkpoint(path), import_class(config.model.class_path), path)
        init_args = config.data.get("init_args", config.data)
        if subcommand != "fit" and "vocab_path" in init_args and not init_args.vocab_path:
            init_args.vocab_path = str(path)  # evaluate with the model's own vocabulary

    def _before_run(self) -> None:
        """Saves the data artifacts (vocabulary, labels) before any other rank starts, and
        keeps the run folder out of the saved config, so that re-running it starts a new run."""
        self._section().trainer.default_root_dir = self._root
        save = getattr(self.datamodule, "save_artifacts", None)
        if save is not None:
            save(self.run_dir)

    def before_fit(self) -> None:
        self._before_run()
        if self.trainer.logger is not None:
            seed = self._section()["seed_everything"]
            self.trainer.logger.log_hyperparams({"seed_everything": seed})

    before_validate = before_test = before_predict = _before_run

    def predict(self, **kwargs: Any) -> Any:
        """`trainer.predict` with stdout kept for the JSON lines: whatever else is printed
        meanwhile goes to stderr."""
        with stdout_for_predictions_only():
            return self.trainer.predict(**kwargs)


def default_root(config: Namespace) -> Path:
    """`runs/<path of the experiment's config under configs/, without .yaml>`, or
    `runs/<task name>`. The experiment's config is the last `--config` that names a model
    class: a file of shared parts given after it (sizes, trainer settings) names no run."""
    paths = [Path(str(p)) for p in _as_list(config.get("config"))]
    if not paths:
        return Path("runs") / config.model.class_path.rsplit(".", 1)[-1].lower()
    experiments = [p for p in paths if _names_a_model(p)]
    path = (experiments or paths)[-1].resolve().with_suffix("")
    parts = path.parts
    if "configs" in parts:
        index = len(parts) - 1 - parts[::-1].index("configs")
        return Path("runs", *parts[index + 1 :])
    return Path("runs") / path.name


def _names_a_model(path: Path) -> bool:
    """Whether a config file sets `model.class_path` (an experiment, not a shared part)."""
    import yaml

    try:
        model = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("model")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        return False
    return isinstance(model, dict) and "class_path" in model


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# the start of Lightning's warning when a CLI gets `args` while sys.argv has arguments too
NESTED_ARGS_WARNING = "LightningCLI's args parameter is intended to run from within Python"


def run_cli(args: list[str] | None = None, run: bool = True) -> LightningNLPCLI:
    """Builds (and by default runs) the CLI from `args` (default: the command line).

    Commands that run training stages themselves (`ulmfit`, `compare`, `curve`) pass `args`
    while `sys.argv` holds their own command line, on purpose; Lightning's warning about that
    pair (a screenful at every stage) is silenced for them.
    """
    with warnings.catch_warnings():
        if args is not None:
            warnings.filterwarnings("ignore", message=NESTED_ARGS_WARNING)
        return _build_cli(args, run)


def _build_cli(args: list[str] | None, run: bool) -> LightningNLPCLI:
    try:
        return LightningNLPCLI(
            subclass_mode_model=True,
            subclass_mode_data=True,
            trainer_defaults={
                "logger": default_logger_config(),
                "use_distributed_sampler": False,  # the project's samplers split by rank
                "log_every_n_steps": 20,
                "devices": 1,  # more (DDP) only when asked: --trainer.devices N
                "callbacks": [LearningRateLogger()],  # every run logs its learning rates
            },
            save_config_kwargs={"overwrite": True},
            parser_kwargs={
                "description": "lightning-nlp: train, evaluate and use recurrent NLP models.",
                "epilog": HELP_EPILOG,
                "formatter_class": _HelpFormatter,
            },
            args=args,
            run=run,
        )
    finally:
        os.environ.pop(RUN_DIR_ENV, None)


COMMAND_FUNCTIONS = {  # imported only when the command runs
    "generate": "lightning_nlp.cli.generate:generate_cli",
    "train-vectors": "lightning_nlp.cli.commands:train_vectors_command",
    "baseline": "lightning_nlp.cli.commands:baseline_command",
    "export": "lightning_nlp.cli.export:export_cli",
    "serve": "lightning_nlp.inference.serve:serve_cli",
    "bf16": "lightning_nlp.training.precision:bf16_command",
    "ulmfit": "lightning_nlp.cli.recipe:recipe_cli",
    "convert": "lightning_nlp.weights.convert:convert_cli",
    "ensemble": "lightning_nlp.cli.ensemble:ensemble_cli",
    "compare": "lightning_nlp.cli.recipe:compare_cli",
    "curve": "lightning_nlp.cli.curve:curve_cli",
}


def _extra_command(name: str) -> Callable[[list[str]], Any]:
    module, _, function = COMMAND_FUNCTIONS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def main(args: list[str] | None = None) -> None:
    """Entry point of `lightning-nlp`; user errors end with a message and exit status 2."""
    argv = sys.argv[1:] if args is None else args
    try:
        if argv and argv[0] in EXTRA_COMMANDS:
            _extra_command(argv[0])(argv[1:])
        else:
            run_cli(args)  # None: LightningCLI reads sys.argv itself
    except SIGTERMException:  # Lightning stops at the next batch; 0 would say "finished"
        print(  # noqa: T201
            "lightning-nlp: stopped by SIGTERM; the checkpoints written so far are kept: resume "
            "with --ckpt_path <run folder>/checkpoints/last.ckpt",
            file=sys.stderr,
        )
        sys.exit(128 + signal.SIGTERM)
    except (
        CorpusError,
        CheckpointError,
        PrecisionError,
        TrainingDiverged,
        FileNotFoundError,
    ) as error:
        print(f"lightning-nlp: error: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(2)
    finally:
        _end_process_group()


def sync_batchnorm_wanted(accelerator: str) -> bool:
    """Batch norm synchronised across DDP ranks on GPUs (Lightning's `sync_batchnorm`; torch's
    SyncBatchNorm refuses CPU tensors, so CPU ranks keep their own statistics)."""
    import torch

    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def _end_process_group() -> None:
    """Ends a DDP run's process group before the interpreter exits: left to the exit, gloo's
    threads can abort a finished rank ("terminate called without an active exception")."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
