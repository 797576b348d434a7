"""Fetching a corpus from its official address, verified by checksum, or failing clearly."""

from __future__ import annotations

import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from lightning_nlp.data.text.io import CorpusError, file_digest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where one corpus file comes from: a URL, its published md5, and the zip member if any."""

    url: str
    md5: str | None = None
    member: str | None = None


def ensure_files(
    data_dir: str | Path, names: Sequence[str], sources: Mapping[str, Source] | None = None
) -> list[Path]:
    """Returns the paths of `names` in `data_dir`, downloading missing ones from `sources`.

    Offline, or for a file without a source, it raises a CorpusError that names the file
    and the folder to put it in.
    """
    data_dir = Path(data_dir)
    paths = [data_dir / name for name in names]
    missing = [path for path in paths if not path.is_file()]
    sources = sources or {}
    by_url: dict[str, list[Path]] = {}
    for path in missing:
        where = f"put {path.name} in {data_dir} (or pass --data.data_dir)"
        if path.name not in sources:
            raise CorpusError(f"{path}: file not found; {where}")
        by_url.setdefault(sources[path.name].url, []).append(path)
    for url, targets in by_url.items():
        _download(url, targets, sources)
    return paths


def _download(url: str, targets: list[Path], sources: Mapping[str, Source]) -> None:
    data_dir = targets[0].parent
    where = f"put {', '.join(t.name for t in targets)} in {data_dir} (or pass --data.data_dir)"
    log.info("downloading %s to %s", url, data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        download = Path(tmp) / "download"
        try:
            _fetch(url, download)
        except (urllib.error.URLError, OSError) as error:
            raise CorpusError(
                f"{targets[0]}: file not found and the download from {url} failed ({error}); "
                f"download it by hand and {where}"
            ) from None
        md5 = sources[targets[0].name].md5
        if md5 is not None and file_digest(download, "md5") != md5:
            raise CorpusError(f"{url}: checksum mismatch (expected md5 {md5}); {where}")
        data_dir.mkdir(parents=True, exist_ok=True)
        for target in targets:
            partial = data_dir / f".{target.name}.part"
            member = sources[target.name].member
            if member is None:
                shutil.copyfile(download, partial)
            else:
                try:
                    with zipfile.ZipFile(download) as archive, archive.open(member) as src:
                        with open(partial, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                except (zipfile.BadZipFile, KeyError, EOFError, zlib.error) as error:
                    partial.unlink(missing_ok=True)
                    raise CorpusError(
                        f"{url}: a damaged or truncated archive, or one without {member} "
                        f"({error}); download it by hand and {where}"
                    ) from None
            partial.replace(target)


def _fetch(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=30) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                bar.update(len(block))
