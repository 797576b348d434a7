"""Networks remember the arguments they were built with, so that a checkpoint or a model
folder can rebuild them from JSON without unpickling a module."""

from __future__ import annotations

from typing import Any


def init_arguments(frame_locals: dict[str, Any]) -> dict[str, Any]:
    """`locals()` at the top of an `__init__`, as JSON-friendly `init_args` (tuples as lists)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in frame_locals.items()
        if name not in ("self", "__class__")
    }
