import pytest

from lightning_nlp.data.text.tokenize import get_tokenizer, undo_markers


def test_whitespace():
    assert get_tokenizer("whitespace")("a  b\tc\nd") == ["a", "b", "c", "d"]


def test_sst_rules_lowercase_keep_punctuation_and_split_clitics():
    tokens = get_tokenizer("sst")("It's (really) GOOD, isn't it? We'd've... `yes'!")
    assert tokens == [
        "it",
        "'s",
        "(",
        "really",
        ")",
        "good",
        ",",
        "is",
        "n't",
        "it",
        "?",
        "we",
        "'d",
        "'ve",
        "`yes'",
        "!",
    ]


def test_sst_drops_other_characters():
    assert get_tokenizer("sst")("a;b:c.d") == ["a", "b", "c", "d"]


def test_nltk_splits_sentences_without_punkt():
    tokens = get_tokenizer("nltk")("He didn't go. She said no!")
    assert tokens == ["He", "did", "n't", "go", ".", "She", "said", "no", "!"]


def test_ulmfit_markers():
    tokens = get_tokenizer("ulmfit")("I LOVE it!!!!<br /><br />The end &amp; so so so good")
    assert tokens[0] == "<bos>"
    assert tokens[1:3] == ["xxmaj", "i"]
    assert tokens[3:5] == ["xxup", "love"]
    assert "xxrep" in tokens and tokens[tokens.index("xxrep") + 1 : tokens.index("xxrep") + 3] == [
        "4",
        "!",
    ]
    assert "<br" not in " ".join(tokens) and "&" in tokens and "amp" not in tokens
    assert tokens[-4:] == ["xxwrep", "3", "so", "good"]


def test_undo_markers_gives_back_the_words():
    tokens = get_tokenizer("ulmfit")("I LOVE it!!!! The end, so so so good")
    words = undo_markers(tokens)
    assert words == ["I", "LOVE", "it", "!!!!", "The", "end", ",", "so", "so", "so", "good"]
    assert undo_markers(["a", "xxmaj"]) == ["a"]  # a marker cut off at the end is dropped
    assert undo_markers(["xxrep", "x", "y"]) == ["x", "y"]  # no count: not a repetition
    assert undo_markers(["xxmaj", "xxup", "film"]) == ["FILM"]  # a marker on a marker: dropped
    for text, words in (
        ("Very Very Very good", ["Very", "Very", "Very", "good"]),  # xxwrep 3 xxmaj very
        ("NO NO NO", ["NO", "NO", "NO"]),
        ("AAAAARGH", ["AAAAA", "RGH"]),  # xxrep 5 xxmaj a xxup rgh: the split stays
    ):
        assert undo_markers(get_tokenizer("ulmfit")(text)) == words


def test_ulmfit_clitics_and_unk():
    assert get_tokenizer("ulmfit")("don't <unk> it's")[1:] == ["do", "n't", "<unk>", "it", "'s"]


def test_unknown_tokenizer_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown tokenizer"):
        get_tokenizer("spacy")
