import re
from collections import Counter

from lightning_nlp.data.synthetic.embedded import EmbeddedLMDataModule, write_embedded_corpus
from lightning_nlp.data.synthetic.reviews import (
    LEXICON_SIZE,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    generate_reviews,
)


def test_generator_is_deterministic_and_balanced():
    first = list(generate_reviews(400, seed=5))
    assert first == list(generate_reviews(400, seed=5))
    assert first != list(generate_reviews(400, seed=6))
    counts = Counter(r.label for r in first)
    assert 150 < counts["positive"] < 250
    assert len({r.domain for r in first}) == 5


def test_each_review_holds_one_polarity_and_most_sentiment_words_are_rare():
    reviews = list(generate_reviews(2000, seed=0))
    lexicon = {"positive": set(POSITIVE_WORDS), "negative": set(NEGATIVE_WORDS)}
    assert not lexicon["positive"] & lexicon["negative"]
    for review in reviews:
        words = set(re.findall(r"[a-z]+", review.text.lower()))
        other = "negative" if review.label == "positive" else "positive"
        assert words & lexicon[review.label] and not words & lexicon[other], review
    # what 100 labelled restaurant reviews (the demo's target) see: under half the words
    restaurant = [r for r in reviews if r.domain == "restaurant"][:100]
    seen = {w for r in restaurant for w in re.findall(r"[a-z]+", r.text.lower())}
    assert len(seen & (lexicon["positive"] | lexicon["negative"])) < 0.5 * 2 * LEXICON_SIZE
    # and the whole corpus shows each word often enough to learn it from context
    counts = Counter(w for r in reviews for w in re.findall(r"[a-z]+", r.text.lower()))
    everyone = lexicon["positive"] | lexicon["negative"]
    assert min(counts[w] for w in everyone) >= 1
    assert sum(counts[w] for w in everyone) > 8 * len(everyone)


def test_language_model_text_holds_no_labels(tmp_path):
    folder = write_embedded_corpus(tmp_path / "emb", num_docs=300, seed=0)
    dm = EmbeddedLMDataModule(data_dir=str(folder), num_docs=300)
    text = dm.split_file("train").read_text()
    reviews = [r.text for r in generate_reviews(300, seed=0)]
    assert text.splitlines() == reviews[: len(text.splitlines())]
    assert "positive" not in text.split() and "negative" not in text.split()


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
    from lightning_nlp.data.synthetic import embedded
    from lightning_nlp.data.synthetic import reviews as synthetic_reviews

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
