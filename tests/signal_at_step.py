"""A callback for interruption tests: the training process signals itself after a step."""

import os

from pytorch_lightning.callbacks import Callback


class SignalAtStep(Callback):
    """Sends this process `signum` once training step `step` has ended."""

    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)
