"""Contiguous token streams cut into BPTT windows for truncated backpropagation through time."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

Window = tuple[int, int]  # (start column, length)


class LMStream(Dataset[tuple[Tensor, Tensor]]):
    """A token stream laid out as `batch_size` contiguous rows, indexed by BPTT windows.

    The stream is cut into `world_size * batch_size` equal rows (the tail that does not fill
    a row is dropped) and this rank keeps rows `rank * batch_size ... (rank + 1) * batch_size`,
    so ranks read disjoint parts. Row b continues in the next window, which is what lets
    the model carry its hidden state from one batch to the next.

    Args:
        ids: (N,) token ids.
        batch_size: rows per rank, B.
        rank, world_size: this process's place under DDP.
        backwards: read the stream right to left, for a backward language model.
    """

    def __init__(
        self,
        ids: np.ndarray | Tensor,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        backwards: bool = False,
    ) -> None:
        ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)  # (N,)
        if backwards:
            ids = ids.flip(0)
        num_rows = batch_size * world_size
        row_len = len(ids) // num_rows
        if row_len < 2:
            raise ValueError(
                f"a stream of {len(ids)} tokens is too short for {num_rows} rows; "
                "lower the batch size"
            )
        rows = ids[: num_rows * row_len].view(num_rows, row_len)  # (W * B, N / (W * B))
        self.rows = rows[rank * batch_size : (rank + 1) * batch_size].contiguous()  # (B, R)

    @property
    def row_len(self) -> int:
        return self.rows.shape[1]

    def __getitem__(self, window: Window) -> tuple[Tensor, Tensor]:
        """Returns input and target of shape (B, length); the target is shifted by one."""
        start, length = window
        chunk = self.rows[:, start : start + length + 1]  # (B, length + 1)
        return chunk[:, :-1], chunk[:, 1:]


def bptt_windows(
    row_len: int, bptt: int, variable: bool = False, rng: np.random.Generator | None = None
) -> list[Window]:
    """Consecutive windows covering positions 0 .. row_len - 2 of each row exactly once.

    With `variable`, window lengths are drawn as in AWD-LSTM (Merity et al. 2018, sec. 4.1):
    normal around `bptt` with probability 0.95, else around `bptt / 2`, sd 5, at least 5; as
    many as the expected length (0.975 bptt) fits in a row, then scaled together to cover it.
    So every epoch has the same number of windows: the Trainer measures an epoch's length
    once, and an epoch of another length would end without its validation.
    """
    usable = row_len - 1
    if not variable:
        return [(start, min(bptt, usable - start)) for start in range(0, usable, bptt)]
    rng = rng or np.random.default_rng(0)
    count = max(1, min(round(usable / (0.975 * bptt)), usable))
    means = np.where(rng.random(count) < 0.95, bptt, bptt / 2)
    drawn = np.maximum(5, np.round(rng.normal(means, 5)))
    # each window one token, plus its share of the rest: ends rise strictly, ends[-1] == usable
    rest = np.round(np.cumsum(drawn) * (usable - count) / drawn.sum()).astype(int)
    ends = np.arange(1, count + 1) + rest
    starts = np.concatenate([[0], ends[:-1]])
    return [(int(a), int(b - a)) for a, b in zip(starts, ends)]


class BPTTSampler(Sampler[Window]):
    """Yields the BPTT windows of one epoch in order; variable lengths are reseeded per epoch.

    Under DDP the rank split is done by `LMStream` (each rank its own rows) and every rank
    walks the same window schedule, so the Trainer must not add a distributed sampler:
    the CLI sets `use_distributed_sampler=False` (do the same when building a Trainer).
    """

    def __init__(self, stream: LMStream, bptt: int, variable: bool = False, seed: int = 0) -> None:
        self.epoch = 0
        self.start = 0  # windows of the next epoch to skip (a resumed run: see ResumableLoader)
        self.seed = seed
        self.row_len = stream.row_len
        self.bptt = bptt
        self.variable = variable
        self._cache: tuple[int, list[Window]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at each epoch start: a new variable-length schedule."""
        self.epoch = epoch

    def windows(self) -> list[Window]:
        if self._cache is None or self._cache[0] != self.epoch:
            rng = np.random.default_rng((self.seed, self.epoch))
            self._cache = (self.epoch, bptt_windows(self.row_len, self.bptt, self.variable, rng))
        return self._cache[1]

    def __iter__(self) -> Iterator[Window]:  # type: ignore[override]
        start, self.start = self.start, 0
        yield from self.windows()[start:]  # drawn at the first window, after the epoch is set

    def __len__(self) -> int:
        return len(self.windows())
