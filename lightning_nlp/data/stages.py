"""Which splits each Trainer stage reads, shared by the language-model and classification data."""

from __future__ import annotations

from typing import Any

SPLITS = ("train", "valid", "test")
STAGE_SPLITS = {"fit": ("train", "valid"), "validate": ("valid",), "test": ("test",)}  # setup


def stage_splits(trainer: Any, has_vocab: bool) -> list[str]:
    """The splits a Trainer's current stage reads (plus train when the vocabulary must be built
    from it); all three outside a Trainer."""
    stage = trainer.state.fn if trainer is not None else None
    stage = getattr(stage, "value", stage)
    needed = [] if stage == "predict" else list(STAGE_SPLITS.get(stage, SPLITS))
    return needed if has_vocab or "train" in needed or stage == "predict" else ["train", *needed]
