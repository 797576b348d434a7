"""Sections of an experiment YAML that the commands beside LightningCLI's accept and ignore,
so that `--config configs/...yaml` works for every subcommand."""

from __future__ import annotations

from typing import Any

from jsonargparse import ArgumentParser

IGNORED_SECTIONS = (
    "trainer",
    "model",
    "seed_everything",
    "optimizer",
    "lr_scheduler",
    "predictions",
)


def accept_ignored_sections(parser: ArgumentParser, *more: str) -> tuple[str, ...]:
    """Adds `IGNORED_SECTIONS` and `more` to `parser` as accepted, unused options; returns
    their names (to clear them from a parsed config before instantiating it)."""
    names = (*IGNORED_SECTIONS, *more)
    for name in names:
        parser.add_argument(f"--{name}", type=Any, default=None, help="ignored")
    return names
