import json
import shutil

import numpy as np
import pytest
import torch

from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.char_cnn import CharCNNEncoder
from lightning_nlp.nn.elmo.characters import (
    BOS_IDS,
    EOS_IDS,
    NUM_CHARACTERS,
    batch_char_ids,
    token_char_ids,
)
from lightning_nlp.nn.elmo.elmo import Elmo
from lightning_nlp.nn.elmo.highway import Highway
from lightning_nlp.nn.elmo.language_model import BiLMLanguageModel
from lightning_nlp.nn.elmo.projected_lstm import ProjectedLSTM
from lightning_nlp.nn.elmo.scalar_mix import ScalarMix
from lightning_nlp.weights.elmo import load_bilm, load_published
from lightning_nlp.weights.layer_cache import attach_layer_cache

FILTERS = [[1, 4], [2, 5], [3, 3]]


def small_bilm(**kwargs) -> BiLM:
    torch.manual_seed(0)
    options = dict(char_dim=4, num_highway=1, projection_dim=6, cell_dim=8, num_layers=2)
    return BiLM(FILTERS, **{**options, **kwargs}).eval()


def test_char_cnn_and_highway_shapes():
    encoder = CharCNNEncoder(FILTERS, char_dim=4, num_highway=2, output_dim=7)
    chars = batch_char_ids([["a", "bb", "ccc"], ["d"]])
    assert encoder(chars).shape == (2, 3, 7)
    assert Highway(12, 2)(torch.randn(3, 5, 12)).shape == (3, 5, 12)


def test_projected_lstm_matches_torch_lstm_with_projection():
    layer = ProjectedLSTM(5, 8, 3)
    reference = torch.nn.LSTM(5, 8, proj_size=3, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(layer.weight_ih)
        reference.weight_hh_l0.copy_(layer.weight_hh)
        reference.bias_ih_l0.copy_(layer.bias)
        reference.bias_hh_l0.zero_()
        reference.weight_hr_l0.copy_(layer.weight_proj)
    x = torch.randn(2, 4, 5)
    out, (h, c) = layer(x, torch.tensor([4, 2]))
    expected, _ = reference(x)
    torch.testing.assert_close(out[0], expected[0])
    torch.testing.assert_close(out[1, :2], expected[1, :2])
    assert (out[1, 2:] == 0).all()
    torch.testing.assert_close(h[1], expected[1, 1])  # the state after the last real step


def test_sentence_output_ignores_batch_padding_and_neighbours():
    bilm = small_bilm()
    alone = bilm(batch_char_ids([["the", "cat"]]))
    batched = bilm(batch_char_ids([["a", "much", "longer", "sentence", "here"], ["the", "cat"]]))
    torch.testing.assert_close(batched.layers[:, 1, :4], alone.layers[:, 0, :4])
    assert batched.lengths.tolist() == [5, 2]
    assert batched.mask[1].tolist() == [True] * 4 + [False] * 3


def test_stateless_by_default_stateful_as_option():
    first = batch_char_ids([["some", "context"], ["more", "words"]])
    second = batch_char_ids([["the", "cat"], ["a", "dog"]])
    bilm = small_bilm()
    fresh = bilm(second).layers
    bilm(first)
    torch.testing.assert_close(bilm(second).layers, fresh)
    stateful = small_bilm(stateful=True)
    stateful(first)
    assert not torch.allclose(stateful(second).layers[1:], fresh[1:])
    stateful.reset_states()
    torch.testing.assert_close(stateful(second).layers, fresh)


def test_lowercase_bilm_reads_capitals_as_lower_case():
    cased = batch_char_ids([["The", "CAT", "Éa"]])
    lower = batch_char_ids([["the", "cat", "Éa"]])
    folding = small_bilm(lowercase=True)
    torch.testing.assert_close(folding(cased).layers, folding(lower).layers)
    plain = small_bilm()
    assert not torch.allclose(plain(cased).layers, plain(lower).layers)
    assert folding.init_args["lowercase"] is True  # saved with the weights


def test_scalar_mix_layer_norm_ignores_padding():
    mix = ScalarMix(3, layer_norm=True)
    with torch.no_grad():
        mix.weights.copy_(torch.tensor([0.1, 0.5, -0.3]))
    layers = torch.randn(3, 1, 4, 6)
    mask = torch.tensor([[True, True, True, False]])
    padded = layers.clone()
    padded[:, :, 3] = 1000.0  # garbage at the padded position
    out, out_padded = mix(layers, mask), mix(padded, mask)
    torch.testing.assert_close(out[:, :3], out_padded[:, :3])
    torch.testing.assert_close(out[:, :3], mix(layers[:, :, :3], mask[:, :3]))
    assert (out_padded[:, 3] == 0).all()


def test_elmo_strips_sentinels_and_mixes():
    elmo = Elmo(small_bilm(), num_outputs=2, dropout=0.0)
    chars = batch_char_ids([["the", "cat", "sat"], ["a"]])
    out = elmo(chars)
    assert len(out.representations) == 2 and out.representations[0].shape == (2, 3, 12)
    layers = elmo.bilm(chars).layers  # (3, B, T + 2, 12)
    expected = layers[:, 0, 1:4].mean(dim=0)  # equal softmax weights, gamma 1
    torch.testing.assert_close(out.representations[0][0], expected)
    assert (out.representations[0][1, 1:] == 0).all()
    assert not any(p.requires_grad for p in elmo.bilm.parameters())


def test_backward_lm_predicts_the_previous_word():
    """Each word is its right neighbour halved: readable right to left only."""
    words = [f"w{i}" for i in range(16)]
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(64):
        last = int(rng.integers(8, 16))
        sentences.append([last // 8, last // 4, last // 2, last])
    vocab = ["<pad>", "<unk>", "<bos>", "<eos>", *words]
    chars = batch_char_ids([[words[i] for i in s] for s in sentences])
    targets = torch.tensor([[2, *(i + 4 for i in s), 3] for s in sentences])
    torch.manual_seed(0)
    model = BiLMLanguageModel(
        len(vocab),
        [[1, 8], [2, 8]],
        char_dim=8,
        projection_dim=16,
        cell_dim=32,
        num_layers=1,
        dropout=0.0,
        output_dropout=0.0,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        loss = model(chars, targets)
        optimizer.zero_grad()
        (loss.forward + loss.backward).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        top = model.bilm(chars).layers[-1]  # (B, 6, 32)
        forward_guess = model.softmax(top[..., :16]).argmax(-1)  # predicts position t + 1
        backward_guess = model.softmax(top[..., 16:]).argmax(-1)  # predicts position t - 1
    # words 1..3 (positions 2..4): the previous word is determined, the next one is not
    backward_right = (backward_guess[:, 2:5] == targets[:, 1:4]).float().mean()
    forward_right = (forward_guess[:, 1:4] == targets[:, 2:5]).float().mean()
    assert backward_right == 1.0
    assert forward_right < 0.8


# -- the published hdf5 layout, against an independent numpy computation ---------------------
OPTIONS = {
    "lstm": {
        "use_skip_connections": True,
        "projection_dim": 6,
        "cell_clip": 3,
        "proj_clip": 3,
        "dim": 8,
        "n_layers": 2,
    },
    "char_cnn": {
        "activation": "relu",
        "filters": FILTERS,
        "n_highway": 1,
        "embedding": {"dim": 4},
        "n_characters": 262,
        "max_characters_per_token": 50,
    },
}


def write_published(folder, rng):
    import h5py

    weights = {"char_embed": rng.normal(size=(NUM_CHARACTERS - 1, 4))}
    for i, (width, n) in enumerate(FILTERS):
        weights[f"CNN/W_cnn_{i}"] = rng.normal(size=(1, width, 4, n))
        weights[f"CNN/b_cnn_{i}"] = rng.normal(size=n)
    features = sum(n for _, n in FILTERS)
    for name in ("W_transform", "W_carry"):
        weights[f"CNN_high_0/{name}"] = rng.normal(size=(features, features)) * 0.3
    weights["CNN_high_0/b_transform"] = rng.normal(size=features)
    weights["CNN_high_0/b_carry"] = rng.normal(size=features)
    weights["CNN_proj/W_proj"] = rng.normal(size=(features, 6))
    weights["CNN_proj/b_proj"] = rng.normal(size=6)
    for d in range(2):
        for layer in range(2):
            cell = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
            weights[f"{cell}/W_0"] = rng.normal(size=(6 + 6, 32)) * 0.1
            bias = rng.normal(size=32)
            bias[:24] += 4  # open input and forget gates, positive candidates (i, j, f): the
            # cell grows by about 1 a step, past the clip of 3
            weights[f"{cell}/B"] = bias
            weights[f"{cell}/W_P_0"] = rng.normal(size=(8, 6)) * 1.5
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "options.json").write_text(json.dumps(OPTIONS))
    with h5py.File(folder / "weights.hdf5", "w") as out:
        for name, value in weights.items():
            out[name] = value.astype(np.float32)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def numpy_elmo(w, tokens):
    """The published computation for one sentence, written out in numpy (TensorFlow conventions)."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    ids = np.stack([BOS_IDS, *token_char_ids(tokens), EOS_IDS])  # (n + 2, 50)
    table = np.vstack([np.zeros((1, 4), np.float32), w["char_embed"]])
    chars = table[ids]  # (n + 2, 50, 4)
    features = []
    for i, (width, _) in enumerate(FILTERS):
        kernel = w[f"CNN/W_cnn_{i}"][0]  # (width, 4, n)
        conv = (
            np.stack(
                [
                    np.einsum("tke,ken->tn", chars[:, p : p + width], kernel)
                    for p in range(51 - width)
                ],
                axis=1,
            )
            + w[f"CNN/b_cnn_{i}"]
        )  # (n + 2, positions, n)
        features.append(np.maximum(conv.max(axis=1), 0))
    x = np.concatenate(features, axis=-1)
    carry = sigmoid(x @ w["CNN_high_0/W_carry"] + w["CNN_high_0/b_carry"])
    transform = np.maximum(x @ w["CNN_high_0/W_transform"] + w["CNN_high_0/b_transform"], 0)
    x = carry * transform + (1 - carry) * x
    tokens_out = x @ w["CNN_proj/W_proj"] + w["CNN_proj/b_proj"]  # (n + 2, 6)
    clipped = False
    directions = []
    for d in range(2):
        inputs = tokens_out if d == 0 else tokens_out[::-1]
        outputs = []
        for layer in range(2):
            cell = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
            h, c, out = np.zeros(6), np.zeros(8), []
            for x_t in inputs:
                z = np.concatenate([x_t, h]) @ w[f"{cell}/W_0"] + w[f"{cell}/B"]
                i, j, f, o = np.split(z, 4)
                c = sigmoid(f + 1.0) * c + sigmoid(i) * np.tanh(j)
                clipped |= bool(np.abs(c).max() > 3)
                c = np.clip(c, -3, 3)
                h = np.clip((sigmoid(o) * np.tanh(c)) @ w[f"{cell}/W_P_0"], -3, 3)
                out.append(h)
            out = np.stack(out)
            if layer > 0:
                out = out + inputs
            outputs.append(out)
            inputs = out
        directions.append(outputs if d == 0 else [o[::-1] for o in outputs])
    layers = [np.concatenate([tokens_out, tokens_out], -1)]
    layers += [np.concatenate([f, b], -1) for f, b in zip(*directions)]
    return np.stack(layers), clipped  # (3, n + 2, 12)


def test_published_weights_match_an_independent_computation(tmp_path):
    pytest.importorskip("h5py")
    weights = write_published(tmp_path / "elmo", np.random.default_rng(0))
    bilm = load_bilm(tmp_path / "elmo")
    sentences = [["Hello", "wörld", "!", "a", "longer", "sentence", "."], ["a"]]
    with torch.no_grad():
        out = bilm(batch_char_ids(sentences))
    clipped = []
    for b, tokens in enumerate(sentences):
        expected, was_clipped = numpy_elmo(weights, tokens)
        clipped.append(was_clipped)
        n = len(tokens) + 2
        np.testing.assert_allclose(out.layers[:, b, :n].numpy(), expected, rtol=1e-4, atol=1e-4)
    assert any(clipped)  # the test exercises the cell clipping


def test_published_loader_errors(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(FileNotFoundError, match="options.json"):
        load_bilm(tmp_path / "nothing")
    write_published(tmp_path / "elmo", np.random.default_rng(0))
    options = json.loads((tmp_path / "elmo" / "options.json").read_text())
    options["lstm"]["dim"] = 16  # does not fit the weights
    (tmp_path / "elmo" / "options.json").write_text(json.dumps(options))
    with pytest.raises(ValueError, match="not the published ELMo layout"):
        load_published(tmp_path / "elmo" / "options.json", tmp_path / "elmo" / "weights.hdf5")


def test_published_name_offline_says_where_to_put_the_files(tmp_path, monkeypatch):
    import urllib.error

    from lightning_nlp.data.text import download
    from lightning_nlp.data.text.io import CorpusError

    def offline(url, target):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(download, "_fetch", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(
        CorpusError, match=r"save them as options.json and weights.hdf5 in .*elmo-small"
    ):
        load_bilm("elmo-small")


def _cached(bilm: BiLM, folder) -> Elmo:
    elmo = Elmo(bilm, dropout=0.0)
    attach_layer_cache(elmo, folder)
    return elmo


def test_cache_returns_what_the_model_computes_and_follows_the_weights(tmp_path):
    bilm = small_bilm()
    elmo = _cached(bilm, tmp_path)
    chars = batch_char_ids([["the", "cat", "sat"], ["a"]])
    first, mask = elmo.layers(chars)
    assert (elmo.cache.hits, elmo.cache.misses) == (0, 2)
    assert torch.equal(first, elmo._compute(chars))
    swapped, _ = elmo.layers(batch_char_ids([["a"], ["the", "cat", "sat"]]))
    assert elmo.cache.hits == 2
    assert torch.equal(swapped[:, 1], first[:, 0]) and torch.equal(
        swapped[:, 0, :1], first[:, 1, :1]
    )
    later_run = _cached(small_bilm(), tmp_path)  # same weights, new object
    assert torch.equal(later_run.layers(chars)[0], first) and later_run.cache.hits == 2
    with torch.no_grad():
        bilm.token_encoder.projection.bias.add_(1.0)  # changed weights: no stale vectors
    changed, _ = elmo.layers(chars)
    assert elmo.cache.misses == 4
    assert torch.equal(changed, elmo._compute(chars)) and not torch.equal(changed, first)


def test_cache_key_follows_the_code_that_computes_the_layers(tmp_path, monkeypatch):
    from lightning_nlp.weights import layer_cache

    modules = layer_cache.code_modules(small_bilm(), "lightning_nlp.nn.elmo.elmo")
    for name in ("bilm", "char_cnn", "highway", "projected_lstm", "elmo"):
        assert f"lightning_nlp.nn.elmo.{name}" in modules
    assert "lightning_nlp.nn.functional" in modules  # helpers the forward pass calls
    chars = batch_char_ids([["the", "cat", "sat"]])
    elmo = _cached(small_bilm(), tmp_path)
    elmo.layers(chars)
    monkeypatch.setattr(layer_cache, "source_hash", lambda names: "edited-bilm")
    edited = _cached(small_bilm(), tmp_path)  # same weights, other code
    assert edited.cache_key() != elmo.cache_key()
    edited.layers(chars)
    assert (edited.cache.hits, edited.cache.misses) == (0, 1)  # no stale vectors
    monkeypatch.undo()
    same = _cached(small_bilm(), tmp_path)
    assert same.cache_key() == elmo.cache_key()
    same.layers(chars)
    assert (same.cache.hits, same.cache.misses) == (1, 0)


def test_weights_are_hashed_once_across_mode_switches_and_again_when_changed(tmp_path, monkeypatch):
    from lightning_nlp.nn.elmo import fingerprint

    calls = []
    real = fingerprint.hash_weights
    monkeypatch.setattr(fingerprint, "hash_weights", lambda m: calls.append(1) or real(m))
    elmo = _cached(small_bilm(), tmp_path)
    chars = batch_char_ids([["the", "cat"]])
    key = elmo.cache_key()
    for _ in range(5):  # each epoch and validation switches modes
        elmo.train()
        elmo.layers(chars)
        elmo.eval()
        elmo.layers(chars)
    assert len(calls) == 1 and elmo.cache_key() == key
    with torch.no_grad():
        elmo.bilm.forward_layers[0].weight_ih.mul_(0.5)
    changed = elmo.cache_key()
    assert len(calls) == 2 and changed != key
    elmo.train()
    assert elmo.cache_key() == changed and len(calls) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_cached_sentence_is_computed_again(tmp_path, damage):
    elmo = _cached(small_bilm(), tmp_path)
    chars = batch_char_ids([["the", "cat", "sat"]])
    first, _ = elmo.layers(chars)
    (path,) = tmp_path.rglob("*.npy")
    data = path.read_bytes()
    path.write_bytes(
        data[: len(data) // 2] if damage == "truncate" else data[:-1] + bytes([data[-1] ^ 1])
    )
    fresh = _cached(elmo.bilm, tmp_path)  # no copy in memory
    again, _ = fresh.layers(chars)
    assert fresh.cache.misses == 1 and torch.equal(again, first)


def test_frozen_bilm_stays_in_eval_mode_while_training():
    torch.manual_seed(0)
    elmo = Elmo(BiLM(FILTERS, char_dim=4, projection_dim=6, cell_dim=8, dropout=0.5), dropout=0.0)
    elmo.train()
    assert elmo.training and not elmo.bilm.training
    chars = batch_char_ids([["the", "cat"]])
    torch.testing.assert_close(elmo(chars).representations[0], elmo(chars).representations[0])


def test_cache_computes_a_repeated_sentence_once_and_respects_its_memory_limit(tmp_path):
    elmo = _cached(small_bilm(), tmp_path)
    chars = batch_char_ids([["the", "cat"], ["a"], ["the", "cat"]])
    layers, _ = elmo.layers(chars)
    assert (elmo.cache.hits, elmo.cache.misses) == (1, 2)
    torch.testing.assert_close(layers[:, 0], layers[:, 2])
    assert elmo.cache.memory_used == sum(v.nbytes for v in elmo.cache._memory.values())
    tight = _cached(small_bilm(), tmp_path)
    tight.cache.memory_limit = elmo.cache.memory_used - 1  # room for one of the two
    tight.layers(chars)
    assert len(tight.cache._memory) == 1 and tight.cache.hits == 3  # read from disk


def test_elmo_classifier_spells_its_vocabulary(tmp_path):
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, FILTERS, char_dim=4, projection_dim=6, cell_dim=8)
    folder = save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")
    itos = [*SPECIALS, "cat", "dog"]
    classifier = PretrainedElmoClassifier(
        len(itos), 3, str(folder), hidden_dim=5, head_hidden_dim=0
    ).eval()
    tokens, lengths = torch.tensor([[4, 5, 0]]), torch.tensor([2])
    with pytest.raises(RuntimeError, match="set_vocabulary"):
        classifier(tokens, lengths)
    with pytest.raises(ValueError, match="3 words for a vocabulary of 6"):
        classifier.set_vocabulary(itos[:3])
    classifier.set_vocabulary(itos)
    assert (classifier.char_table[0] == 0).all()  # <pad> is no token
    assert classifier.char_table[4].tolist() == token_char_ids(["cat"])[0].tolist()
    trained = load_bilm(folder).state_dict()  # the biLM comes with its trained weights
    for name, weight in classifier.elmo.bilm.state_dict().items():
        assert torch.equal(weight, trained[name]), name
    # recorded (checkpoints, model folders) as the plain ElmoClassifier: rebuilt without files
    from lightning_nlp.nn.elmo.classifier import ElmoClassifier
    from lightning_nlp.nn.init_args import network_config
    from lightning_nlp.weights.checkpoints import build_network
    from lightning_nlp.weights.pretrained import load_pretrained

    recorded = network_config(classifier)
    assert recorded["class_path"] == "lightning_nlp.nn.elmo.classifier.ElmoClassifier"
    assert "elmo_weights" not in recorded["init_args"]
    rebuilt = build_network(recorded).eval()
    assert type(rebuilt) is ElmoClassifier
    rebuilt.load_state_dict(classifier.state_dict())
    torch.testing.assert_close(rebuilt(tokens, lengths), classifier(tokens, lengths))
    saved = save_pretrained(
        tmp_path / "clas", classifier, Vocab(itos), "whitespace", labels=["a", "b", "c"]
    )
    shutil.rmtree(folder)  # the biLM's folder is gone: the model folder has its weights
    loaded = load_pretrained(saved).network.eval()
    torch.testing.assert_close(loaded(tokens, lengths), classifier(tokens, lengths))
    # a folder written before the weights reader moved out of nn/ (with elmo_weights, cache_dir)
    config = json.loads((saved / "config.json").read_text())
    config["network"]["init_args"].update(elmo_weights=str(folder), cache_dir=None)
    (saved / "config.json").write_text(json.dumps(config))
    old = load_pretrained(saved).network.eval()
    torch.testing.assert_close(old(tokens, lengths), classifier(tokens, lengths))


def test_elmo_classifier_with_a_word_embedding_beside_elmo(tmp_path):
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, FILTERS, char_dim=4, projection_dim=6, cell_dim=8)
    folder = save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")
    classifier = PretrainedElmoClassifier(6, 3, str(folder), embed_dim=5, hidden_dim=4).eval()
    classifier.set_vocabulary([*SPECIALS, "cat", "dog"])
    tokens = torch.tensor([[4, 5]])
    seen = []
    recur = classifier.recur
    classifier.recur = lambda inputs, lengths: seen.append(inputs) or recur(inputs, lengths)
    assert classifier(tokens, torch.tensor([2])).shape == (1, 3)
    assert seen[0].shape == (1, 2, 5 + 12)  # the RNN reads [x_k; ELMo_k]
    torch.testing.assert_close(seen[0][..., :5], classifier.embedding(tokens))


def test_words_the_vocabulary_lacks_are_spelled_for_elmo_and_unk_for_the_embedding(tmp_path):
    """Like with like against the word-only baselines: a word that the vocabulary lacks
    ("dog", id 5 after the 5 words) is spelled out for ELMo but reaches the word embedding as
    `<unk>`; it is not part of the saved state, and a network saved when such words were in
    the vocabulary (a smaller recorded limit) keeps its limit."""
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.nn.elmo.characters import token_char_ids
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, FILTERS, char_dim=4, projection_dim=6, cell_dim=8)
    folder = save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")
    classifier = PretrainedElmoClassifier(5, 3, str(folder), embed_dim=5, hidden_dim=4).eval()
    classifier.set_vocabulary([*SPECIALS, "cat", "dog"])
    seen = []
    recur = classifier.recur
    classifier.recur = lambda inputs, lengths: seen.append(inputs) or recur(inputs, lengths)
    classifier(torch.tensor([[4, 5]]), torch.tensor([2]))
    expected = classifier.embedding(torch.tensor([[4, 1]]))  # cat, <unk>
    torch.testing.assert_close(seen[0][..., :5], expected)
    assert classifier.unseen_chars.tolist() == token_char_ids(["dog"]).tolist()  # spelled
    # the ELMo half of the input is the biLM's reading of "dog", not of "<unk>"
    as_unk = classifier.elmo(torch.from_numpy(token_char_ids(["cat", "<unk>"])).long()[None])
    assert not torch.allclose(seen[0][0, 1, 5:], as_unk.representations[0][0, 1])
    assert "unseen_chars" not in classifier.state_dict()
    rebuilt = PretrainedElmoClassifier(5, 3, str(folder), embed_dim=5, hidden_dim=4)
    rebuilt.load_state_dict(classifier.state_dict())
    assert rebuilt.word_limit.tolist() == [5, 1] and len(rebuilt.unseen_chars) == 0
    rebuilt.spell_unseen(["dog", "eel"])
    assert len(rebuilt.unseen_chars) == 2
    rebuilt.spell_unseen([])  # the next text has none
    assert len(rebuilt.unseen_chars) == 0
    older = {**classifier.state_dict(), "word_limit": torch.tensor([4, 1])}
    rebuilt.load_state_dict(older)
    rebuilt.set_vocabulary([*SPECIALS, "cat"])
    assert rebuilt.word_limit.tolist() == [4, 1]


def test_elmo_classifier_with_elmo_at_its_output(tmp_path):
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, FILTERS, char_dim=4, projection_dim=6, cell_dim=8)
    folder = save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")
    classifier = PretrainedElmoClassifier(
        7, 3, str(folder), hidden_dim=4, head_hidden_dim=0, elmo_output=True
    ).eval()
    classifier.set_vocabulary([*SPECIALS, "cat", "dog", "eats"])
    assert len(classifier.elmo.mixes) == 2
    with torch.no_grad():
        classifier.elmo.mixes[1].weights.copy_(torch.tensor([2.0, -1.0, 0.5]))
        classifier.elmo.mixes[1].gamma.fill_(1.7)
    tokens, lengths = torch.tensor([[4, 6, 5, 0], [5, 4, 0, 0]]), torch.tensor([3, 2])
    features = classifier.encode(tokens, lengths)
    assert features.shape == (2, 4 + 12)
    # the last 12 features: the output mixture, averaged over each sentence's real tokens
    layers, _ = classifier.elmo.layers(classifier.char_table[tokens].long())  # (3, B, T, 12)

    def mix(weights: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
        share = torch.softmax(weights, 0) * gamma  # (3,)
        return (share[:, None, None, None] * layers).sum(0)  # (B, T, 12)

    mixed = mix(torch.tensor([2.0, -1.0, 0.5]), classifier.elmo.mixes[1].gamma)
    expected = torch.stack([mixed[0, :3].mean(0), mixed[1, :2].mean(0)])
    torch.testing.assert_close(features[:, 4:], expected)
    # padding does not change a sentence's logits
    alone = classifier(tokens[1:, :2], lengths[1:])
    torch.testing.assert_close(classifier(tokens, lengths)[1:], alone)
    # the RNN reads the first mixture, not the output one
    mixed0 = mix(classifier.elmo.mixes[0].weights, classifier.elmo.mixes[0].gamma)
    torch.testing.assert_close(features[:, :4], classifier.recur(mixed0, lengths))
    # built from its own init_args (as from a checkpoint), bidirectional and max-pooled
    args = {**classifier.init_args, "elmo_weights": "gone", "bidirectional": True, "pooling": "max"}
    rebuilt = PretrainedElmoClassifier(**args).eval()
    assert rebuilt.head.layers[-1].in_features == 2 * 4 + 12  # no hidden layer: linear head
    rebuilt.set_vocabulary([*SPECIALS, "cat", "dog", "eats"])
    assert rebuilt(tokens, lengths).shape == (2, 3)


def test_elmo_classifier_graphs_are_refused(tmp_path):
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.inference.graphs import check_exportable
    from lightning_nlp.weights.checkpoints import CheckpointError
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, FILTERS, char_dim=4, projection_dim=6, cell_dim=8)
    folder = save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")
    with pytest.raises(CheckpointError, match="ElmoClassifier is not one"):
        check_exportable(PretrainedElmoClassifier(6, 3, str(folder), hidden_dim=4))
