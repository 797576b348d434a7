import numpy as np

from lightning_nlp.data.sentences.datamodule import SentenceFilesDataModule, split_sentences
from lightning_nlp.data.text.token_cache import TokenTable
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.nn.elmo.characters import token_char_ids


def test_split_sentences_at_ends_documents_and_max_len():
    types = ["a", ".", "b", "!"]
    ids = np.array(
        [0, 0, 1, 2, 2, 2, 2, 2, 3, 0], np.int32
    )  # doc 1: "a a . b b b b b !", doc 2: "a"
    table = TokenTable(types, ids, np.array([0, 9, 10]))
    pieces = [p.tolist() for p in split_sentences(table, max_len=4)]
    assert pieces == [[0, 0, 1], [2, 2, 2, 2], [2, 3], [0]]


def test_batches_hold_chars_and_shifted_targets(tmp_path):
    (tmp_path / "text.txt").write_text("the cat sat . a dog ran !\nthe end .\n" * 20)
    data = SentenceFilesDataModule(
        str(tmp_path), tokenizer="whitespace", val_fraction=0.1, cache_dir=str(tmp_path / "cache")
    )
    data.setup("fit")
    dataset = data.dataset("train")
    batch = dataset[[0, 1]]
    vocab = data.vocab
    for row, index in enumerate([0, 1]):
        words = [data.table("train").types[i] for i in dataset.sentences[index]]
        n = len(words)
        assert batch.lengths[row] == n
        assert np.array_equal(batch.chars[row, :n].numpy(), token_char_ids(words))
        assert (batch.chars[row, n:] == 0).all()
        expected = [Vocab.bos_id, *vocab.encode(words), Vocab.eos_id]
        assert batch.targets[row, : n + 2].tolist() == expected
        assert (batch.targets[row, n + 2 :] == Vocab.pad_id).all()
