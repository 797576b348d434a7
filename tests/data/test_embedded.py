from collections import Counter

from lightning_nlp.data.embedded import EmbeddedLMDataModule, write_embedded_corpus
from lightning_nlp.data.synthetic_reviews import generate_reviews


def test_generator_is_deterministic_and_balanced():
    first = list(generate_reviews(400, seed=5))
    assert first == list(generate_reviews(400, seed=5))
    assert first != list(generate_reviews(400, seed=6))
    counts = Counter(r.label for r in first)
    assert 150 < counts["positive"] < 250
    assert len({r.domain for r in first}) == 5


def test_label_is_not_given_by_the_first_or_last_sentence():
    reviews = list(generate_reviews(2000, seed=0))
    positive_words = ("good", "great", "excellent", "wonderful", "superb", "lovely", "brilliant")

    def agreement(pick):
        hits = [
            any(w in pick(r.text.split(". ")) for w in positive_words) == (r.label == "positive")
            for r in reviews
        ]
        return sum(hits) / len(hits)

    assert agreement(lambda s: s[0]) < 0.75
    assert agreement(lambda s: s[-1]) < 0.75


def test_files_and_datamodule(tmp_path):
    folder = write_embedded_corpus(tmp_path / "emb", num_docs=200, seed=0)
    lines = (folder / "train.txt").read_text().splitlines()
    labels = (folder / "train.labels").read_text().splitlines()
    assert len(lines) == len(labels) == 160
    dm = EmbeddedLMDataModule(
        num_docs=200, cache_dir=str(tmp_path / "cache"), batch_size=4, bptt=10
    )
    assert dm.vocab_size > 100
    assert sum(len(dm.stream(s)) for s in ("train", "valid", "test")) > 200 * 20


def test_generated_files_are_rewritten_when_the_generator_changes(tmp_path, monkeypatch):
    from lightning_nlp.data import embedded, synthetic_reviews

    folder = write_embedded_corpus(tmp_path / "emb", num_docs=100, seed=0)
    original = (folder / "train.txt").read_text()
    (folder / "train.txt").write_text("edited\n")
    write_embedded_corpus(folder, num_docs=100, seed=0)
    assert (folder / "train.txt").read_text() == "edited\n"  # same generator: files kept
    changed = tmp_path / "synthetic_reviews.py"
    changed.write_text(open(synthetic_reviews.__file__).read() + "\n# a change\n")
    monkeypatch.setattr(synthetic_reviews, "__file__", str(changed))
    assert embedded.generator_key(100, 0) != (folder / "GENERATOR").read_text().strip()
    write_embedded_corpus(folder, num_docs=100, seed=0)
    assert (folder / "train.txt").read_text() == original  # regenerated, not reused
