"""Data loaders that a run can be resumed from in the middle of an epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader, Dataset, Sampler


class ResumableLoader(DataLoader):
    """A loader of whole batches over one of the project's samplers (which have `epoch` and
    `start`), whose state is the epoch and the number of batches handed out in it.

    Lightning saves that state in every checkpoint (the loader has `state_dict`) and loads it
    before resuming: a run resumed from a checkpoint written mid-epoch then skips the batches
    it had trained on (the sampler skips their indices; no batch is built), and goes on with
    the rest of the same epoch's order. From a checkpoint written at an epoch's end, the next
    epoch starts from its beginning.
    """

    def __init__(self, dataset: Dataset, sampler: Sampler) -> None:
        super().__init__(dataset, sampler=sampler, batch_size=None)
        self.batches_done = 0
        self._resume_at: tuple[int, int] | None = None  # (epoch, batches done)

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        # a generator: the epoch is read at the first batch, after the Trainer has set it
        epoch, done = self._resume_at or (-1, 0)
        self._resume_at = None
        self.batches_done = done if epoch == self.sampler.epoch else 0
        self.sampler.start = self.batches_done
        for batch in super().__iter__():
            self.batches_done += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.sampler.epoch, "batches_done": self.batches_done}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Called by the Trainer before the epoch's first batch is drawn: the sampler is put
        at the epoch that resumes, and told how many of its batches to skip."""
        epoch, done = state["epoch"], state["batches_done"]
        self.sampler.set_epoch(epoch)
        if done >= len(self.sampler):  # written at the epoch's end: the next one starts
            epoch, done = epoch + 1, 0
            self.sampler.set_epoch(epoch)
        self._resume_at = (epoch, done)
