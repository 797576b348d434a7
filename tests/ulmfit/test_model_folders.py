"""Model folders, vocabulary re-targeting, and fastai conversion."""

import pickle

import pytest
import torch
from safetensors.torch import load_file

from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.nn.awd_lstm import AWDLSTMClassifier, AWDLSTMLanguageModel
from lightning_nlp.weights.checkpoints import CheckpointError
from lightning_nlp.weights.convert import convert_fastai
from lightning_nlp.weights.pretrained import (
    load_pretrained,
    retarget_rows,
    save_pretrained,
    transfer_weights,
)

SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]


def test_retarget_copies_shared_words_and_gives_new_ones_the_mean_row():
    old = Vocab([*SPECIALS, "cat", "dog", "fish"])
    new = Vocab([*SPECIALS, "fish", "bird", "cat"])
    weight = torch.arange(14.0).reshape(7, 2)
    rows, copied = retarget_rows(weight, old, new)
    assert copied == 6
    assert torch.equal(rows[4], weight[6]) and torch.equal(rows[6], weight[4])  # fish, cat
    assert torch.equal(rows[:4], weight[:4])
    assert torch.allclose(rows[5], weight.mean(dim=0))  # bird: unknown before


def test_a_model_folder_round_trips_without_pickles(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab([*SPECIALS, "a", "b", "c"])
    model = AWDLSTMLanguageModel(len(vocab), 6, 10, 2).eval()
    folder = save_pretrained(tmp_path / "lm", model, vocab, "whitespace")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
        "vocab.json",
    ]
    stored = load_file(folder / "model.safetensors")  # plain tensors, the tied matrix once
    assert "encoder.layers.1.weight_hh" in stored
    assert ("decoder.weight" in stored) != ("encoder.embedding.weight" in stored)
    loaded = load_pretrained(folder)
    tokens = torch.tensor([[4, 5, 6, 3]])
    assert torch.equal(loaded.network(tokens).logits, model(tokens).logits)
    assert loaded.network.decoder.weight is loaded.network.encoder.embedding.weight
    assert loaded.vocab.itos == vocab.itos and loaded.tokenizer == "whitespace"
    other = AWDLSTMLanguageModel(5, 6, 10, 2)
    save_pretrained(tmp_path / "lm", other, Vocab([*SPECIALS, "x"]), "nltk")  # replaced whole
    assert load_pretrained(tmp_path / "lm").vocab.itos[-1] == "x"


def test_a_folder_naming_a_class_outside_the_networks_is_refused(tmp_path):
    vocab = Vocab([*SPECIALS, "a"])
    folder = save_pretrained(tmp_path / "lm", AWDLSTMLanguageModel(5, 4, 4, 1), vocab, "nltk")
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(config.replace("lightning_nlp.nn.awd_lstm", "os"))
    with pytest.raises(CheckpointError, match="is not a network of lightning_nlp.nn"):
        load_pretrained(folder)


def test_transfer_moves_the_encoder_into_a_classifier_of_another_vocabulary(tmp_path):
    torch.manual_seed(0)
    lm_vocab = Vocab([*SPECIALS, "good", "bad", "film"])
    lm = AWDLSTMLanguageModel(len(lm_vocab), 6, 10, 2)
    save_pretrained(tmp_path / "lm", lm, lm_vocab, "ulmfit")
    vocab = Vocab([*SPECIALS, "film", "good", "plot"])
    classifier = AWDLSTMClassifier(len(vocab), 2, 0, 6, 10, 2)
    head_before = classifier.head[-1].weight.detach().clone()
    stats = transfer_weights(classifier, load_pretrained(tmp_path / "lm"), vocab, "ulmfit")
    embedding = classifier.encoder.embedding.weight
    assert torch.equal(embedding[4], lm.encoder.embedding.weight[6])  # film
    assert torch.equal(embedding[5], lm.encoder.embedding.weight[4])  # good
    assert torch.equal(classifier.encoder.layers[1].weight_hh, lm.encoder.layers[1].weight_hh)
    assert torch.equal(classifier.head[-1].weight, head_before)  # the head stays as it was
    assert stats["pretrained/vocab_coverage"] == pytest.approx(6 / 7)
    with pytest.raises(CheckpointError, match="trained on 'ulmfit' tokens"):
        transfer_weights(classifier, load_pretrained(tmp_path / "lm"), vocab, "nltk")
    wider = AWDLSTMClassifier(len(vocab), 2, 0, 6, 12, 2)
    with pytest.raises(CheckpointError, match="give the network the pretrained sizes"):
        transfer_weights(wider, load_pretrained(tmp_path / "lm"), vocab, "ulmfit")


def test_a_deeper_classifier_than_the_language_model_is_refused_by_tensor_name(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab([*SPECIALS, "good", "bad"])
    lm = AWDLSTMLanguageModel(len(vocab), 6, 6, 2)  # E = H: layers 0 and 1 fit a deeper one
    folder = save_pretrained(tmp_path / "lm", lm, vocab, "ulmfit")
    deeper = AWDLSTMClassifier(len(vocab), 2, 0, 6, 6, 3)
    with pytest.raises(CheckpointError) as refused:
        transfer_weights(deeper, load_pretrained(folder), vocab, "ulmfit")
    message = str(refused.value)
    assert str(folder) in message and "partial" in message
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert f"encoder.layers.2.{name}" in message
    assert "head." not in message and "decoder" not in message  # expected by design
    shallower = AWDLSTMClassifier(len(vocab), 2, 0, 6, 6, 1)
    with pytest.raises(CheckpointError, match=r"encoder\.layers\.1\.weight_hh.* no place"):
        transfer_weights(shallower, load_pretrained(folder), vocab, "ulmfit")


def test_a_partial_load_fills_what_fits_and_names_what_was_left_random(tmp_path, caplog):
    torch.manual_seed(0)
    vocab = Vocab([*SPECIALS, "good", "bad"])
    lm = AWDLSTMLanguageModel(len(vocab), 6, 6, 2)
    folder = save_pretrained(tmp_path / "lm", lm, vocab, "ulmfit")
    deeper = AWDLSTMClassifier(len(vocab), 2, 0, 6, 6, 3)
    top_before = deeper.encoder.layers[2].weight_hh.detach().clone()
    with caplog.at_level("WARNING", logger="lightning_nlp.weights.pretrained"):
        stats = transfer_weights(deeper, load_pretrained(folder), vocab, "ulmfit", partial=True)
    assert torch.equal(deeper.encoder.layers[1].weight_hh, lm.encoder.layers[1].weight_hh)
    assert torch.equal(deeper.encoder.layers[2].weight_hh, top_before)  # left as it was
    assert stats["pretrained/tensors"] == 9 and stats["pretrained/left_random"] == 4
    assert stats["pretrained/unused"] == 0
    assert "left random: encoder.layers.2.weight_ih" in caplog.text
    assert str(folder) in caplog.text


def test_the_task_asks_for_a_partial_load_with_pretrained_partial(tmp_path):
    from types import SimpleNamespace

    from pytorch_lightning.utilities.parsing import AttributeDict

    from lightning_nlp.tasks.text_classifier import TextClassifierTask

    torch.manual_seed(0)
    vocab = Vocab([*SPECIALS, "good", "bad"])
    folder = save_pretrained(
        tmp_path / "lm", AWDLSTMLanguageModel(len(vocab), 6, 6, 2), vocab, "ulmfit"
    )
    datamodule = SimpleNamespace(vocab=vocab, hparams=AttributeDict(tokenizer="ulmfit"))
    strict = TextClassifierTask(AWDLSTMClassifier(len(vocab), 2, 0, 6, 6, 3), str(folder))
    with pytest.raises(CheckpointError, match=r"encoder\.layers\.2\.weight_ih"):
        strict.load_pretrained(str(folder), datamodule)
    partial = TextClassifierTask(
        AWDLSTMClassifier(len(vocab), 2, 0, 6, 6, 3), str(folder), pretrained_partial=True
    )
    partial.load_pretrained(str(folder), datamodule)
    assert partial._pretrained_loaded


def _fastai_state(model: AWDLSTMLanguageModel, fastai_07: bool) -> dict:
    """The state dict a fastai AWD-LSTM language model with these weights would save."""
    state = {"0.encoder.weight": model.encoder.embedding.weight.detach().clone()}
    dropout_name = "0.encoder_with_dropout.embed.weight" if fastai_07 else "0.encoder_dp.emb.weight"
    state[dropout_name] = state["0.encoder.weight"]
    for i, layer in enumerate(model.encoder.layers):
        prefix = f"0.rnns.{i}."
        raw = "module.weight_hh_l0_raw" if fastai_07 else "weight_hh_l0_raw"
        state[prefix + raw] = layer.weight_hh.detach().clone()
        state[prefix + "module.weight_ih_l0"] = layer.weight_ih.detach().clone()
        state[prefix + "module.bias_ih_l0"] = layer.bias_ih.detach().clone()
        state[prefix + "module.bias_hh_l0"] = layer.bias_hh.detach().clone()
        if not fastai_07:
            state[prefix + "module.weight_hh_l0"] = layer.weight_hh.detach().clone()
    state["1.decoder.weight"] = state["0.encoder.weight"]
    if not fastai_07:  # fastai 0.7's decoder has no bias
        state["1.decoder.bias"] = model.decoder.bias.detach().clone()
    return state


@pytest.mark.parametrize("fastai_07", [False, True])
def test_convert_a_fastai_language_model(tmp_path, fastai_07):
    torch.manual_seed(0)
    itos = ["xxunk", "xxpad", "xxbos", "xxeos", "xxmaj", "the", "movie", "was", "great"]
    fastai_model = AWDLSTMLanguageModel(len(itos), 6, 10, 3, pad_id=1).eval()
    if fastai_07:
        torch.nn.init.zeros_(fastai_model.decoder.bias)
    torch.save({"model": _fastai_state(fastai_model, fastai_07)}, tmp_path / "lstm.pth")
    (tmp_path / "itos.pkl").write_bytes(pickle.dumps(itos))
    backwards = fastai_07  # both flags in two runs
    folder = convert_fastai(
        tmp_path / "lstm.pth", tmp_path / "itos.pkl", tmp_path / "out", backwards=backwards
    )
    converted = load_pretrained(folder)
    assert converted.backwards == backwards
    assert converted.vocab.itos[:4] == SPECIALS and converted.vocab.itos[4:] == itos[4:]
    words = ["xxbos", "xxmaj", "the", "movie", "was"]
    ours = torch.tensor([converted.vocab.stoi[{"xxbos": "<bos>"}.get(w, w)] for w in words])
    theirs = torch.tensor([itos.index(w) for w in words])
    expected = fastai_model(theirs[None]).logits[0]  # (T, V_fastai)
    got = converted.network(ours[None]).logits[0]  # (T, V)
    for word in ("the", "movie", "great", "<unk>"):
        fastai_word = {"<unk>": "xxunk"}.get(word, word)
        assert torch.allclose(
            got[:, converted.vocab.stoi[word]], expected[:, itos.index(fastai_word)], atol=1e-5
        )


def test_convert_refuses_pickled_objects(tmp_path):
    import collections

    (tmp_path / "itos.pkl").write_bytes(pickle.dumps([collections.OrderedDict()]))
    torch.save({"0.encoder.weight": torch.zeros(1, 2)}, tmp_path / "lstm.pth")
    with pytest.raises(CheckpointError, match="refusing to load"):
        convert_fastai(tmp_path / "lstm.pth", tmp_path / "itos.pkl", tmp_path / "out")


def test_the_model_folder_format_name_does_not_follow_module_moves():
    """Folders written before the package moved to a folder per layer still load: the format
    name in their config.json is a constant, not the module's path."""
    from lightning_nlp.weights.pretrained import FORMAT

    assert FORMAT == "lightning_nlp.pretrained/1"
