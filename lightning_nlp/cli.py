"""`lightning-nlp`: LightningCLI subcommands fit/validate/test/predict, plus generate, train-vectors, baseline."""

from __future__ import annotations

import sys

from pytorch_lightning.cli import LightningCLI

from lightning_nlp.loggers import default_logger_config


class LightningNLPCLI(LightningCLI):
    """Wires data-derived sizes into the model and sets the project's trainer defaults."""

    def add_arguments_to_parser(self, parser) -> None:  # noqa: ANN001 (jsonargparse parser)
        # A link whose source the chosen data module lacks (num_classes for a language-model
        # corpus) is skipped by jsonargparse, so one CLI serves every task.
        for name in ("vocab_size", "num_classes", "pad_id"):
            parser.link_arguments(f"data.{name}", f"model.init_args.{name}", apply_on="instantiate")

    def before_fit(self) -> None:
        """Records the run's seed with the experiment logger (config.yaml holds it too)."""
        if self.trainer.logger is not None:
            seed = self._get(self.config, "seed_everything")
            self.trainer.logger.log_hyperparams({"seed_everything": seed})


def run_cli(args: list[str] | None = None, run: bool = True) -> LightningNLPCLI:
    """Builds the CLI from `args` (default: the command line)."""
    return LightningNLPCLI(
        subclass_mode_model=True,
        subclass_mode_data=True,
        trainer_defaults={"logger": default_logger_config()},
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
    )


def main(args: list[str] | None = None) -> None:
    argv = sys.argv[1:] if args is None else args
    if argv and argv[0] == "generate":
        from lightning_nlp.generate import generate_cli

        generate_cli(argv[1:])
        return
    if argv and argv[0] in ("train-vectors", "baseline"):
        from lightning_nlp.commands import baseline_command, train_vectors_command

        command = train_vectors_command if argv[0] == "train-vectors" else baseline_command
        command(argv[1:])
        return
    run_cli(args)


if __name__ == "__main__":
    main()
