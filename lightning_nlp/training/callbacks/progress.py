"""Progress bars on stderr that stay readable when the output is a log file, not a terminal."""

from __future__ import annotations

import sys
import time
from typing import Any

from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm


class _LogTqdm(Tqdm):
    """Redraws at most every `log_interval` seconds (and at the end) when stderr is not a TTY.

    Lightning refreshes its bars explicitly on every update, which a terminal overwrites in
    place but a CI log keeps as one line per step.
    """

    def __init__(self, *args: Any, log_interval: float = 0.0, **kwargs: Any) -> None:
        self._log_interval = log_interval
        self._last_draw = 0.0
        super().__init__(*args, **kwargs)

    def refresh(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        finished = self.total is not None and self.n >= self.total
        if self._log_interval and not finished and now - self._last_draw < self._log_interval:
            return
        self._last_draw = now
        super().refresh(*args, **kwargs)


class LogFriendlyProgressBar(TQDMProgressBar):
    """Lightning's TQDM bars, written to stderr so that stdout carries only a command's output
    (`lightning-nlp predict > predictions.jsonl`), and throttled in non-interactive logs.

    Args:
        refresh_rate: update the bar every this many batches.
        log_interval: seconds between redraws when stderr is not a terminal.
    """

    def __init__(self, refresh_rate: int = 1, log_interval: float = 30.0) -> None:
        super().__init__(refresh_rate=refresh_rate)
        self.log_interval = log_interval

    def _bar(self, desc: str, position: int, leave: bool, smoothing: float = 0) -> Tqdm:
        interactive = sys.stderr.isatty()
        return _LogTqdm(
            desc=desc,
            position=position,
            disable=self.is_disabled,
            leave=leave,
            dynamic_ncols=interactive,
            ncols=None if interactive else 100,
            file=sys.stderr,
            smoothing=smoothing,
            bar_format=self.BAR_FORMAT,
            log_interval=0.0 if interactive else self.log_interval,
        )

    def init_sanity_tqdm(self) -> Tqdm:
        return self._bar(self.sanity_check_description, 2 * self.process_position, False)

    def init_train_tqdm(self) -> Tqdm:
        return self._bar(self.train_description, 2 * self.process_position, True)

    def init_predict_tqdm(self) -> Tqdm:
        return self._bar(self.predict_description, 2 * self.process_position, True)

    def init_validation_tqdm(self) -> Tqdm:
        has_main_bar = self.trainer.state.fn != "validate"
        return self._bar(
            self.validation_description, 2 * self.process_position + has_main_bar, not has_main_bar
        )

    def init_test_tqdm(self) -> Tqdm:
        return self._bar("Testing", 2 * self.process_position, True)
