"""What the project's data modules share: a vocabulary and a tokeniser that checkpoints keep."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from lightning_nlp.data.text.artifacts import check_same_data
from lightning_nlp.data.text.vocab import Vocab


class VocabDataModule(pl.LightningDataModule):
    """A data module with a vocabulary (`vocab`) and a tokeniser (`hparams.tokenizer`). Its
    `state_dict` (saved in every checkpoint) holds both and the subclass's `data_state()`, so
    that generation, prediction and resuming read text as training did; loading one of another
    vocabulary, label set or tokeniser is refused."""

    @property
    def vocab(self) -> Vocab:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def data_state(self) -> dict[str, Any]:
        """What else a checkpoint must agree on (labels, direction, document length)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {"vocab": self.vocab.itos, "tokenizer": self.hparams.tokenizer, **self.data_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        check_same_data(self, state_dict)
