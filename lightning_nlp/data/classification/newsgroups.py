"""20 Newsgroups, by-date split: scikit-learn's fetcher online, or a local `20news-bydate.tar.gz`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.classification.labeled_texts import LabeledTexts
from lightning_nlp.data.text.io import CorpusError, read_tar_gz
from lightning_nlp.data.text.tokenize import TokenizerName

ARCHIVE = "20news-bydate.tar.gz"
# The mission's 6-way aggregation of the 20 groups.
SIX_CLASSES = {
    "comp": "comp",
    "rec": "rec",
    "sci": "sci",
    "misc": "misc",
    "talk.politics": "politics",
    "alt.atheism": "religion",
    "soc.religion": "religion",
    "talk.religion": "religion",
}


def six_way(group: str) -> str:
    """comp.graphics -> comp, talk.politics.guns -> politics, alt.atheism -> religion, ..."""
    for prefix, name in SIX_CLASSES.items():
        if group.startswith(prefix):
            return name
    raise ValueError(f"no 6-way class for newsgroup {group!r}")


class NewsgroupsDataModule(ClassificationDataModule):
    """The 11,314 train / 7,532 test posts; validation is held out of train.

    Args:
        six_classes: aggregate the 20 groups into comp, rec, sci, misc, politics, religion.
        remove: parts of each post to strip, as in scikit-learn ("headers", "footers", "quotes").
    """

    def __init__(
        self,
        data_dir: str,
        six_classes: bool = False,
        remove: tuple[str, ...] = ("headers", "footers", "quotes"),
        tokenizer: TokenizerName = "nltk",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, tokenizer=tokenizer, **kwargs)
        self.six_classes = six_classes
        self.remove = tuple(remove)

    def read_splits(self, needed: set[str]) -> dict[str, LabeledTexts]:
        archive = self.data_dir / ARCHIVE
        posts = _read_archive(archive) if archive.is_file() else _fetch(self.data_dir)
        from sklearn.datasets._twenty_newsgroups import (
            strip_newsgroup_footer,
            strip_newsgroup_header,
            strip_newsgroup_quoting,
        )

        strip = {
            "headers": strip_newsgroup_header,
            "footers": strip_newsgroup_footer,
            "quotes": strip_newsgroup_quoting,
        }
        splits = {"train": LabeledTexts(), "test": LabeledTexts()}
        for split, group, text, origin in posts:
            for part in self.remove:
                text = strip[part](text)
            splits[split].add(text, six_way(group) if self.six_classes else group, origin)
        return splits


def _is_post(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 3 and parts[0].startswith("20news-bydate-")


def _read_archive(archive: Path) -> list[tuple[str, str, str, str]]:
    posts = []
    for name, raw in read_tar_gz(archive, _is_post):
        top, group, _ = name.split("/")
        posts.append((top.rsplit("-", 1)[1], group, raw.decode("latin-1"), f"{archive}:{name}"))
    if not posts:
        raise CorpusError(f"{archive}: holds no 20news-bydate-train/test posts")
    return posts


def _fetch(data_dir: Path) -> list[tuple[str, str, str, str]]:
    from sklearn.datasets import fetch_20newsgroups

    posts = []
    for split in ("train", "test"):
        try:
            bunch = fetch_20newsgroups(data_home=str(data_dir), subset=split, shuffle=False)
        except Exception as error:  # noqa: BLE001 (offline errors vary by platform)
            raise CorpusError(
                f"{data_dir / ARCHIVE}: file not found and scikit-learn could not fetch 20 "
                f"Newsgroups ({error}); put {ARCHIVE} in {data_dir} (or pass --data.data_dir)"
            ) from None
        for i, (text, target) in enumerate(zip(bunch.data, bunch.target)):
            posts.append((split, bunch.target_names[target], text, f"20newsgroups {split} #{i}"))
    return posts
