import hashlib
import zipfile

import pytest

from lightning_nlp.data.text.download import Source, ensure_files
from lightning_nlp.data.text.io import CorpusError


def _zip(tmp_path):
    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("corpus/train.txt", "a b c\n")
        zf.writestr("corpus/test.txt", "d e\n")
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


def test_downloads_verifies_and_extracts(tmp_path):
    archive, md5 = _zip(tmp_path)
    sources = {n: Source(archive.as_uri(), md5, f"corpus/{n}") for n in ("train.txt", "test.txt")}
    paths = ensure_files(tmp_path / "data", ["train.txt", "test.txt"], sources)
    assert [p.read_text() for p in paths] == ["a b c\n", "d e\n"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["test.txt", "train.txt"]


def test_checksum_mismatch(tmp_path):
    archive, _ = _zip(tmp_path)
    sources = {"train.txt": Source(archive.as_uri(), "0" * 32, "corpus/train.txt")}
    with pytest.raises(CorpusError, match="checksum mismatch"):
        ensure_files(tmp_path / "data", ["train.txt"], sources)
    assert not (tmp_path / "data" / "train.txt").exists()


def test_offline_failure_says_where_to_put_the_file(tmp_path):
    sources = {"train.txt": Source("http://127.0.0.1:9/corpus.zip", None, "corpus/train.txt")}
    with pytest.raises(
        CorpusError, match=r"train.txt: file not found and the download .* put train.txt in"
    ):
        ensure_files(tmp_path / "data", ["train.txt"], sources)


def test_file_without_source(tmp_path):
    with pytest.raises(CorpusError, match=r"mine.txt: file not found; put mine.txt in"):
        ensure_files(tmp_path, ["mine.txt"])
