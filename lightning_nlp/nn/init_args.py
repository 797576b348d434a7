"""Networks remember the arguments they were built with, so that a checkpoint or a model
folder can rebuild them from JSON without unpickling a module."""

from __future__ import annotations

from typing import Any

from torch import nn


def init_arguments(frame_locals: dict[str, Any]) -> dict[str, Any]:
    """`locals()` at the top of an `__init__`, as JSON-friendly `init_args` (tuples as lists)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in frame_locals.items()
        if name not in ("self", "__class__")
    }


def network_config(network: nn.Module) -> dict[str, Any]:
    """`{"class_path", "init_args"}` of a network that records its `init_args`, so that a
    checkpoint can rebuild it without unpickling anything. A class may name the class it is
    rebuilt as (`recorded_class`: a subclass that only reads weights at construction is
    rebuilt as its `nn` parent, whose weights the checkpoint holds)."""
    cls = getattr(network, "recorded_class", type(network))
    init_args = getattr(network, "init_args", None)
    if init_args is None:
        raise TypeError(
            f"{cls.__name__} does not record its `init_args`: the task could not rebuild it "
            "from a checkpoint"
        )
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dict(init_args)}
