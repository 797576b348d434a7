"""WikiText-2 and WikiText-103 (Merity et al. 2016), the tokenised `wiki.*.tokens` release."""

from __future__ import annotations

from typing import Any

from lightning_nlp.data.download import Source
from lightning_nlp.data.lm_datamodule import TextFilesLMDataModule

_FILES = ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens")


def _zip_sources(url: str, md5: str, folder: str) -> dict[str, Source]:
    return {name: Source(url, md5, f"{folder}/{name}") for name in _FILES}


class WikiText2DataModule(TextFilesLMDataModule):
    """WikiText-2: about 2.1M training tokens, 33k vocabulary, `<unk>` for rare words.

    Files are whitespace-tokenised; each line (paragraph, heading or blank) ends with `<eos>`,
    as in the usual WikiText-2 token counts.
    """

    sources = _zip_sources(
        "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
        "542ccefacc6c27f945fb54453812b3cd",
        "wikitext-2",
    )

    def __init__(
        self,
        data_dir: str = "data/wikitext-2",
        train_file: str = _FILES[0],
        val_file: str = _FILES[1],
        test_file: str = _FILES[2],
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, train_file, val_file, test_file, **kwargs)


class WikiText103DataModule(TextFilesLMDataModule):
    """WikiText-103: about 103M training tokens, 267k vocabulary."""

    sources = _zip_sources(
        "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-103-v1.zip",
        "9ddaacaf6af0710eda8c456decff7832",
        "wikitext-103",
    )

    def __init__(
        self,
        data_dir: str = "data/wikitext-103",
        train_file: str = _FILES[0],
        val_file: str = _FILES[1],
        test_file: str = _FILES[2],
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, train_file, val_file, test_file, **kwargs)
