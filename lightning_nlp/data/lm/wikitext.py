"""WikiText-2 and WikiText-103 (Merity et al. 2016), the tokenised `wiki.*.tokens` release.

Files are whitespace-tokenised with `<unk>` for rare words; each line (paragraph, heading or
blank) ends with `<eos>`, as in the usual WikiText token counts.
"""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.data.text.download import Source

_FILES = ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens")
_URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/{}-v1.zip"


def _zip_sources(name: str, md5: str) -> dict[str, Source]:
    return {file: Source(_URL.format(name), md5, f"{name}/{file}") for file in _FILES}


class _WikiTextDataModule(TextFilesLMDataModule):
    def __init__(
        self,
        data_dir: str,
        train_file: str = _FILES[0],
        val_file: str = _FILES[1],
        test_file: str = _FILES[2],
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, train_file, val_file, test_file, **kwargs)


class WikiText2DataModule(_WikiTextDataModule):
    """WikiText-2: about 2.1M training tokens, 33k vocabulary."""

    sources = _zip_sources("wikitext-2", "542ccefacc6c27f945fb54453812b3cd")


class WikiText103DataModule(_WikiTextDataModule):
    """WikiText-103: about 103M training tokens, 267k vocabulary."""

    sources = _zip_sources("wikitext-103", "9ddaacaf6af0710eda8c456decff7832")
