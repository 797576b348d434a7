import json
from collections import Counter

import pytest

from lightning_nlp.data.classification.gnad import GNADDataModule
from lightning_nlp.data.classification.imdb import IMDbDataModule, IMDbLMDataModule
from lightning_nlp.data.classification.imdb_sample import IMDbSampleDataModule
from lightning_nlp.data.classification.newsgroups import NewsgroupsDataModule, six_way
from lightning_nlp.data.classification.sst2 import SST2DataModule
from lightning_nlp.data.classification.table_files import TableFilesDataModule
from lightning_nlp.data.classification.tables import read_table
from lightning_nlp.data.classification.trec import TRECDataModule
from lightning_nlp.data.text.io import CorpusError
from tests.data import corpus_fixtures as fx


def _sizes(dm):
    return {split: len(dm.split(split).documents) for split in ("train", "valid", "test")}


def test_sst2_stsa_and_glue_layouts(tmp_path):
    dm = SST2DataModule(str(fx.write_sst2(tmp_path / "sst")), cache_dir=str(tmp_path / "c"))
    assert dm.label_names == ["negative", "positive"] and _sizes(dm) == {
        "train": 60,
        "valid": 30,
        "test": 20,
    }
    glue = tmp_path / "glue"
    glue.mkdir()
    rows = ["sentence\tlabel"] + [
        f"a {'good' if i % 2 else 'bad'} film\t{i % 2}" for i in range(20)
    ]
    (glue / "train.tsv").write_text("\n".join(rows) + "\n")
    (glue / "dev.tsv").write_text("\n".join(rows[:13]) + "\n")
    dm = SST2DataModule(str(glue), cache_dir=str(tmp_path / "c"), val_fraction=0.2)
    assert _sizes(dm) == {"train": 16, "valid": 4, "test": 12}
    (glue / "train.tsv").unlink()  # evaluation needs only the test file
    test_only = SST2DataModule(str(glue), cache_dir=str(tmp_path / "c"))
    assert len(test_only.texts("test")) == 12


def test_trec_is_latin1_with_coarse_or_fine_labels(tmp_path):
    folder = fx.write_trec(tmp_path / "trec")
    coarse = TRECDataModule(str(folder), cache_dir=str(tmp_path / "c"))
    assert coarse.label_names == ["HUM", "LOC", "NUM"]
    assert "Zürich" in coarse.vocab
    fine = TRECDataModule(str(folder), fine=True, cache_dir=str(tmp_path / "c"))
    assert fine.label_names == ["HUM:ind", "LOC:city", "NUM:dist"]


def test_trec_malformed_line(tmp_path):
    folder = fx.write_trec(tmp_path / "trec")
    with open(folder / "train_5500.label", "ab") as handle:
        handle.write(b"NOLABEL what is this ?\n")
    with pytest.raises(CorpusError, match=r"train_5500.label:61: expected 'COARSE:fine"):
        TRECDataModule(str(folder), cache_dir=str(tmp_path / "c")).split("test")


def test_imdb_tarball_and_unsup(tmp_path):
    dm = IMDbDataModule(str(fx.write_imdb_tar(tmp_path / "imdb")), cache_dir=str(tmp_path / "c"))
    sizes = _sizes(dm)
    assert sizes["train"] + sizes["valid"] == 24 and sizes["test"] == 24
    assert "<br" not in " ".join(dm.vocab.itos)
    assert len(dm.unlabeled_texts()) == 12


def test_newsgroups_local_archive_six_way_and_stripping(tmp_path):
    folder = fx.write_newsgroups_tar(tmp_path / "ng")
    dm = NewsgroupsDataModule(str(folder), six_classes=True, cache_dir=str(tmp_path / "c"))
    assert dm.label_names == ["comp", "misc", "politics", "rec", "religion", "sci"]
    assert "someone@example.com" not in dm.vocab and "quoted" not in dm.vocab
    assert six_way("soc.religion.christian") == "religion"
    assert six_way("talk.politics.mideast") == "politics"
    twenty = NewsgroupsDataModule(str(folder), cache_dir=str(tmp_path / "c"))
    assert twenty.num_classes == 7


def test_gnad_semicolon_quote_csv(tmp_path):
    dm = GNADDataModule(str(fx.write_gnad(tmp_path / "gnad")), cache_dir=str(tmp_path / "c"))
    assert dm.label_names == ["Kultur", "Sport", "Web"]
    assert "Umlauten" in dm.vocab and "äöü" in dm.vocab


def test_imdb_sample_uses_is_valid(tmp_path):
    dm = IMDbSampleDataModule(
        str(fx.write_imdb_sample(tmp_path / "s")), cache_dir=str(tmp_path / "c")
    )
    assert _sizes(dm)["test"] == 8


def test_generic_csv_tsv_jsonl(tmp_path):
    folder = fx.write_csv(tmp_path / "mine")
    dm = TableFilesDataModule(str(folder), cache_dir=str(tmp_path / "c"))
    assert dm.label_names == ["neg", "pos"]
    (tmp_path / "x.jsonl").write_text(json.dumps({"body": "hi there", "y": 1}) + "\n")
    assert read_table(tmp_path / "x.jsonl", "body", "y").labels == ["1"]
    (tmp_path / "x.tsv").write_text("text\tlabel\nhello\ta\n")
    assert read_table(tmp_path / "x.tsv", "text", "label").texts == ["hello"]


def test_bad_rows_name_file_and_line(tmp_path):
    (tmp_path / "bad.csv").write_text("text,label\nfine,a\ntoo,many,fields\n")
    with pytest.raises(CorpusError, match=r"bad.csv:3: expected 2 fields, found 3"):
        read_table(tmp_path / "bad.csv", "text", "label")
    with pytest.raises(CorpusError, match=r"bad.csv:1: no column 'body'"):
        read_table(tmp_path / "bad.csv", "body", "label")
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "label": "x"}\n{not json\n')
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: bad JSON line"):
        read_table(tmp_path / "bad.jsonl", "text", "label")


def test_unknown_label_in_test_is_an_error(tmp_path):
    folder = fx.write_csv(tmp_path / "mine")
    with open(folder / "test.csv", "a") as handle:
        handle.write('999,"a new kind",surprise\n')
    with pytest.raises(
        CorpusError, match=r"test.csv:42: label 'surprise' does not occur in the training data"
    ):
        TableFilesDataModule(str(folder), cache_dir=str(tmp_path / "c")).split("test")


def test_empty_documents_are_counted_not_fatal(tmp_path):
    folder = fx.write_csv(tmp_path / "mine")
    with open(folder / "train.csv", "a") as handle:
        handle.write('100,"   ",pos\n101,"",neg\n')
    dm = TableFilesDataModule(str(folder), cache_dir=str(tmp_path / "c"), val_fraction=0.1)
    splits = [dm.split(s) for s in ("train", "valid", "test")]
    assert splits[0].skipped_empty + splits[1].skipped_empty == 2
    assert all(len(doc) > 0 for split in splits for doc in split.documents)


def test_missing_corpus_files(tmp_path, monkeypatch):
    import lightning_nlp.data.classification.imdb as imdb
    from lightning_nlp.data.text.download import Source

    monkeypatch.setattr(imdb, "SOURCE", Source("http://127.0.0.1:9/aclImdb_v1.tar.gz"))
    with pytest.raises(CorpusError, match="found neither stsa.binary.train nor train.tsv"):
        SST2DataModule(str(tmp_path), cache_dir=str(tmp_path / "c")).split("train")
    with pytest.raises(CorpusError, match=r"aclImdb_v1.tar.gz: file not found"):
        IMDbDataModule(str(tmp_path / "nothing"), cache_dir=str(tmp_path / "c")).split("train")


def test_stratified_split_is_seeded_and_balanced():
    from lightning_nlp.data.classification.labeled_texts import stratified_split

    labels = ["a"] * 80 + ["b"] * 20
    kept, held = stratified_split(labels, 0.1, seed=3)
    assert Counter(labels[i] for i in held) == {"a": 8, "b": 2}
    assert sorted([*kept, *held]) == list(range(100))
    assert stratified_split(labels, 0.1, seed=3)[1].tolist() == held.tolist()
    assert stratified_split(labels, 0.1, seed=4)[1].tolist() != held.tolist()


def test_csv_quoted_field_keeps_its_newlines_and_record_lines(tmp_path):
    from lightning_nlp.data.classification.tables import read_table

    path = tmp_path / "multi.csv"
    path.write_bytes(b'text,label\r\n"multi\nline\r\nreview",pos\r\n"one line",neg\r\n')
    data = read_table(path, "text", "label")
    assert data.texts == ["multi\nline\r\nreview", "one line"]
    assert data.origins == [f"{path}:2", f"{path}:5"]
    tsv = tmp_path / "multi.tsv"
    tsv.write_text('text\tlabel\n"a\tb\nc"\tx\n')
    assert read_table(tsv, "text", "label").texts == ["a\tb\nc"]


def test_split_seed_picks_validation_and_order_seed_only_the_batch_order(tmp_path, monkeypatch):
    folder = fx.write_trec(tmp_path / "trec", n=120)

    def dm(**kw):
        return TRECDataModule(str(folder), cache_dir=str(tmp_path / "c"), batch_size=8, **kw)

    def held_out(module):
        return module.texts("valid").origins

    def first_epoch(module):
        module.setup("fit")
        return [batch.index.tolist() for batch in module.train_dataloader()]

    base = dm(split_seed=0, order_seed=0)
    reordered = dm(split_seed=0, order_seed=1)
    resplit = dm(split_seed=1, order_seed=0)
    assert held_out(base) == held_out(reordered) != held_out(resplit)
    assert first_epoch(base) != first_epoch(reordered)
    # without an explicit order seed, the run's seed_everything decides the order
    monkeypatch.setenv("PL_GLOBAL_SEED", "0")  # what seed_everything(0) sets
    follows_zero = first_epoch(dm(split_seed=0))
    monkeypatch.setenv("PL_GLOBAL_SEED", "1")
    follows_one = first_epoch(dm(split_seed=0))
    assert follows_zero == first_epoch(base) and follows_one == first_epoch(reordered)


def test_eval_words_in_vocab_spells_unseen_words_without_building_from_test_text(tmp_path):
    from lightning_nlp.data.classification.trec import TRECDataModule

    (tmp_path / "train_5500.label").write_text(
        "".join(f"NUM:dist How far is {w} ?\nLOC:city Where is {w} ?\n" for w in "abcdef")
    )
    (tmp_path / "TREC_10.label").write_text("NUM:dist How far is Zanzibar ?\n")
    (tmp_path / "new.txt").write_text("Where is Atlantis ?\n")
    plain = TRECDataModule(str(tmp_path), cache_dir=str(tmp_path / "c"))
    spelled = TRECDataModule(
        str(tmp_path), cache_dir=str(tmp_path / "c"), eval_words_in_vocab=True,
        predict_file=str(tmp_path / "new.txt"),
    )  # fmt: skip
    # the vocabulary (its size, vocab.json) is the training text's alone
    assert spelled.vocab.itos == plain.vocab.itos and "Zanzibar" not in spelled.vocab
    assert spelled.spelled_words == plain.vocab.itos  # no test text read yet
    spelled.save_artifacts(tmp_path / "run")
    assert "Zanzibar" not in (tmp_path / "run" / "vocab.json").read_text()
    # reading the test split gives its unseen word the id after the vocabulary
    test_doc = spelled.split("test").documents[0]
    unseen = len(plain.vocab)
    assert spelled.spelled_words == [*plain.vocab.itos, "Zanzibar"]
    assert test_doc.tolist()[-2] == unseen and spelled.vocab.unk_id not in test_doc
    assert plain.vocab.unk_id in plain.split("test").documents[0]
    # prediction text likewise, after the words given so far (whose ids stay)
    spelled.setup("predict")
    predicted = spelled._datasets["predict"].documents[0].tolist()
    assert spelled.spelled_words == [*plain.vocab.itos, "Zanzibar", "Atlantis"]
    assert predicted[-2] == unseen + 1
    # a resumed run's saved vocabulary gives the same ids
    reread = TRECDataModule(
        str(tmp_path), cache_dir=str(tmp_path / "c"), eval_words_in_vocab=True,
        vocab_path=str(tmp_path / "run" / "vocab.json"),
    )  # fmt: skip
    assert reread.split("test").documents[0].tolist() == test_doc.tolist()


def test_imdb_lm_text_takes_test_reviews_only_when_asked(tmp_path):
    """ULMFiT's target LM reads train, unsup and (as the paper does) test reviews' text;
    `splits=["train"]` leaves every test review out."""
    for split, labels in (("train", ("pos", "neg", "unsup")), ("test", ("pos", "neg"))):
        for label in labels:
            folder = tmp_path / "imdb" / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for i in range(3):
                (folder / f"{i}_7.txt").write_text(f"a review from {split}{label} number {i} .")

    def lm_text(**kwargs) -> str:
        dm = IMDbLMDataModule(str(tmp_path / "imdb"), cache_dir=str(tmp_path / "c"), **kwargs)
        return "".join(dm.split_file(s).read_text() for s in ("train", "valid"))

    both, train_only = lm_text(), lm_text(splits=["train"])
    assert both.count("testpos") == 3 and both.count("testneg") == 3
    assert both.count("trainunsup") == 3 and both.count("trainpos") == 3
    assert "test" not in train_only and train_only.count("trainunsup") == 3
    assert len(train_only.splitlines()) == 9 and len(both.splitlines()) == 15
