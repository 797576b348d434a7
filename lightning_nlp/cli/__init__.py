"""The `lightning-nlp` command: the LightningCLI (`main`) and one module per extra command."""

from lightning_nlp.cli.main import main, run_cli

__all__ = ["main", "run_cli"]
