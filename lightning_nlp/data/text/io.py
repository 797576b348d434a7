"""Reading corpus files with clear errors, checksums and atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path


class CorpusError(ValueError):
    """A corpus file is missing, empty or malformed; the message names the file (and line)."""


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """A text file's contents, without a leading byte-order mark.

    Raises CorpusError naming the file when it is missing or empty, and the file and line
    when it cannot be decoded with `encoding`.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: file not found")
    raw = path.read_bytes()
    if not raw.strip():
        raise CorpusError(f"{path}: file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise CorpusError(
            f"{path}:{line}: not valid {encoding} (byte {raw[error.start]:#04x}); "
            "pass the file's encoding, e.g. encoding='iso-8859-1'"
        ) from None
    return text.removeprefix("\ufeff")


def split_lines(text: str) -> list[str]:
    """Lines ending at "\n" or "\r\n" only.

    `str.splitlines` also breaks at form feeds, \x1c-\x1e, \x85 and \u2028, which occur inside
    real documents: a line of the file must stay one document.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_lines(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """Lines of a text file without their line endings (see `split_lines`); errors as `read_text`."""
    return split_lines(read_text(path, encoding))


def read_tar_gz(archive: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """(name, contents) of each file of a .tar.gz whose name is `wanted`. A truncated or
    damaged archive is a CorpusError naming it, however far it was read."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile() and wanted(member.name):
                    yield member.name, tar.extractfile(member).read()  # type: ignore[union-attr]
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise CorpusError(
            f"{archive}: damaged or truncated archive ({error}); delete it and download it again"
        ) from None


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file name beside `path` (same suffix, for libraries that choose the format
    by it) to write to; renamed over `path` when the block ends, removed if it raises. Readers
    of `path` see the old file or the whole new one, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes `data` to `path` atomically (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
