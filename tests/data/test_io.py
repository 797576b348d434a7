import pytest

from lightning_nlp.data.text.io import CorpusError, atomic_write_text, read_lines, split_lines


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="nothere.txt: file not found"):
        read_lines(tmp_path / "nothere.txt")


def test_empty_file(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(CorpusError, match="empty.txt: file is empty"):
        read_lines(tmp_path / "empty.txt")


def test_not_utf8_names_file_and_line(tmp_path):
    (tmp_path / "latin.txt").write_bytes("first\nsecond\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin.txt:3: not valid utf-8"):
        read_lines(tmp_path / "latin.txt")
    assert read_lines(tmp_path / "latin.txt", encoding="iso-8859-1")[2] == "café au lait"


def test_atomic_write_replaces_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_lines_end_only_at_newline(tmp_path):
    text = "a\x0cb\x1cc\x1dd\x1ee\x85f\u2028g\u2029h\x0bi\r\nsecond\n\nlast without newline"
    (tmp_path / "odd.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    lines = read_lines(tmp_path / "odd.txt")
    assert lines == [
        "a\x0cb\x1cc\x1dd\x1ee\x85f\u2028g\u2029h\x0bi",
        "second",
        "",
        "last without newline",
    ]
    assert split_lines("one\n") == ["one"] and split_lines("one\n\n") == ["one", ""]
