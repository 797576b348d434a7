"""Sections of an experiment YAML that the commands beside LightningCLI's accept and ignore,
so that `--config configs/...yaml` works for every subcommand."""

IGNORED_SECTIONS = (
    "trainer",
    "model",
    "seed_everything",
    "optimizer",
    "lr_scheduler",
    "predictions",
)
