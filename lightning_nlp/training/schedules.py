"""Learning-rate schedules that Lightning steps every optimiser step."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class SlantedTriangularLR(LambdaLR):
    """ULMFiT's slanted triangular learning rate (Howard & Ruder 2018, eq. 3): a linear rise
    over the first `cut_frac` of the steps from lr / ratio to lr, then a linear fall back to
    lr / ratio. Each parameter group follows its own lr, so discriminative rates keep their
    ratios.

    Args:
        optimizer: the optimiser.
        total_steps: steps of the whole run; the task fills it in from the Trainer when None.
        cut_frac: share of the steps spent rising.
        ratio: how much smaller the lowest learning rate is than the highest.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int | None = None,
        cut_frac: float = 0.1,
        ratio: float = 32.0,
    ) -> None:
        self.total_steps, self.cut_frac, self.ratio = total_steps, cut_frac, ratio
        super().__init__(optimizer, self.factor)

    def factor(self, step: int) -> float:
        if self.total_steps is None:  # not planned yet (TimeBudget's warm-up): the lowest rate
            return 1 / self.ratio
        return slanted_triangular_factor(step, self.total_steps, self.cut_frac, self.ratio)


def slanted_triangular_factor(step: int, total: int, cut_frac: float, ratio: float) -> float:
    """The learning rate at `step` of a `total`-step slanted triangular cycle, as a share of
    its peak: from 1 / ratio up to 1 over the first `cut_frac` of the steps, then back down."""
    total = max(1, total)
    cut = max(1, int(total * cut_frac))
    position = step / cut if step < cut else 1 - (step - cut) / max(1, total - cut)
    position = min(1.0, max(0.0, position))
    return (1 + position * (ratio - 1)) / ratio


STEP_SCHEDULES = (SlantedTriangularLR,)  # schedules stepped every step, not every epoch
