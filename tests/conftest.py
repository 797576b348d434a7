import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

# runs made inside the test process never go online; commands run as subprocesses get the
# user's environment instead (tests.test_cli.user_env)
os.environ.setdefault("WANDB_MODE", "offline")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow (real corpora)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def shared_corpus(name: str) -> Path:
    """Folder of a real corpus in ../shared/data, or a clean skip when it is absent."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not available")
    return folder


WORDS = "the cat sat on a mat and dog ran to big red house with small blue door".split()


def write_corpus(folder: Path, lines_per_split: int = 60, seed: int = 0) -> Path:
    """Writes train.txt/valid.txt/test.txt of short random sentences over a 17-word vocabulary."""
    import random

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 9))) for _ in range(lines_per_split)]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")
