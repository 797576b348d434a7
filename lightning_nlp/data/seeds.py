"""The seed of the data order: the run's `seed_everything` unless one is given explicitly.

The held-out validation split has a seed of its own (`split_seed`), so a seed sweep changes
the order in which batches come without changing which documents are validated on.
"""

from __future__ import annotations

import os


def order_seed(explicit: int | None = None) -> int:
    """`explicit`, else the seed Lightning's `seed_everything` recorded (as its own samplers
    do), else 0. Every DDP rank gets the same value."""
    if explicit is not None:
        return explicit
    return int(os.environ.get("PL_GLOBAL_SEED", 0))
