"""Small corpora written in each corpus's real on-disk format."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

POS = ["good", "great", "fine", "superb", "lovely"]
NEG = ["bad", "awful", "dull", "poor", "weak"]
FILLER = ["the", "film", "was", "and", "it", "a", "plot", "really", "so"]


def sentence(rng: random.Random, positive: bool) -> str:
    words = rng.choices(FILLER, k=rng.randint(2, 6)) + [rng.choice(POS if positive else NEG)]
    rng.shuffle(words)
    return " ".join(words)


def write_sst2(folder: Path, n: int = 60, seed: int = 0) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in (("train", n), ("dev", n // 2), ("test", n // 3)):  # told apart by size
        lines = []
        for _ in range(size):
            label = rng.random() < 0.5
            lines.append(f"{int(label)} {sentence(rng, label)}")
        (folder / f"stsa.binary.{name}").write_text("\n".join(lines) + "\n")
    return folder


def write_trec(folder: Path, n: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    kinds = [
        ("NUM:dist", "How far is it from {} to {} ?"),
        ("LOC:city", "What city is {} in {} ?"),
        ("HUM:ind", "Who wrote {} and {} ?"),
    ]
    places = ["Zürich", "Denver", "Aspen", "Köln", "Paris"]
    for name, count in (("train_5500.label", n), ("TREC_10.label", n // 2)):
        lines = [
            f"{k} {q.format(places[i % 5], places[(i + 2) % 5])}"
            for i in range(count)
            for k, q in [kinds[i % 3]]
        ]
        (folder / name).write_bytes(("\n".join(lines) + "\n").encode("iso-8859-1"))
    return folder


def write_imdb_tar(folder: Path, n: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)
    with tarfile.open(folder / "aclImdb_v1.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            for label in ("pos", "neg", "unsup") if split == "train" else ("pos", "neg"):
                for i in range(n):
                    text = f"{sentence(rng, label == 'pos')}.<br /><br />{sentence(rng, label == 'pos')}."
                    data = text.encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{label}/{i}_7.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return folder


def write_newsgroups_tar(folder: Path, n: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    groups = [
        "comp.graphics",
        "rec.autos",
        "sci.space",
        "misc.forsale",
        "talk.politics.guns",
        "alt.atheism",
        "soc.religion.christian",
    ]
    with tarfile.open(folder / "20news-bydate.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            for g in groups:
                for i in range(n):
                    body = (
                        f"From: someone@example.com\nSubject: about {g}\n\n"
                        f"Talking about {g.split('.')[-1]} number {i}.\n> quoted reply\n"
                    )
                    data = body.encode("latin-1")
                    info = tarfile.TarInfo(f"20news-bydate-{split}/{g}/{i}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return folder


def write_gnad(folder: Path, n: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    labels = ["Sport", "Kultur", "Web"]
    for name, count in (("train.csv", n), ("test.csv", n // 2)):
        rows = [
            f"{labels[i % 3]};'Ein Artikel über {labels[i % 3]}; mit Umlauten: äöü {i}.'"
            for i in range(count)
        ]
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def write_imdb_sample(folder: Path, n: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2)
    rows = ["label,text,is_valid"]
    for i in range(n):
        positive = i % 2 == 0
        text = sentence(rng, positive).replace(" ", ", ", 1)
        rows.append(f'{"positive" if positive else "negative"},"{text}",{i % 5 == 0}')
    (folder / "texts.csv").write_text("\n".join(rows) + "\n")
    return folder


def write_csv(folder: Path, n: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(3)
    for name in ("train.csv", "test.csv"):
        rows = ["id,text,label"]
        for i in range(n):
            positive = rng.random() < 0.5
            rows.append(f'{i},"{sentence(rng, positive)}",{"pos" if positive else "neg"}')
        (folder / name).write_text("\n".join(rows) + "\n")
    return folder
