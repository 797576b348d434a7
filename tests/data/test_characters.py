import numpy as np
import torch

from lightning_nlp.nn.elmo.characters import (
    BOS_IDS,
    EOS_IDS,
    MAX_WORD_LENGTH,
    batch_char_ids,
    lowercase_char_ids,
    token_char_ids,
)

BOW, EOW, PAD = 259, 260, 261  # the published ids, shifted by one


def test_ascii_token():
    ids = token_char_ids(["cat"])[0]
    assert ids.shape == (MAX_WORD_LENGTH,)
    assert ids[:5].tolist() == [BOW, ord("c") + 1, ord("a") + 1, ord("t") + 1, EOW]
    assert (ids[5:] == PAD).all()


def test_non_ascii_token_is_utf8_bytes():
    ids = token_char_ids(["né"])[0]
    assert ids[:5].tolist() == [BOW, ord("n") + 1, 0xC3 + 1, 0xA9 + 1, EOW]


def test_over_long_token_keeps_48_bytes():
    ids = token_char_ids(["x" * 60])[0]
    assert ids[0] == BOW and ids[-1] == EOW
    assert (ids[1:-1] == ord("x") + 1).all()


def test_lowercase_changes_only_ascii_capitals():
    cased = torch.from_numpy(token_char_ids(["AZaz@[É"]))
    folded = lowercase_char_ids(cased)
    assert torch.equal(folded, torch.from_numpy(token_char_ids(["azaz@[É"])))
    sentinels = torch.from_numpy(np.stack([BOS_IDS, EOS_IDS]))
    assert torch.equal(lowercase_char_ids(sentinels), sentinels)
    assert (lowercase_char_ids(torch.zeros(2, 3, dtype=torch.long)) == 0).all()


def test_sentinels():
    assert BOS_IDS[:3].tolist() == [BOW, 256 + 1, EOW] and EOS_IDS[1] == 257 + 1
    assert (BOS_IDS[3:] == PAD).all()


def test_batch_matches_tokens_and_pads_with_zeros():
    chars = batch_char_ids([["a", "cat"], ["dog"]])
    assert chars.shape == (2, 2, MAX_WORD_LENGTH) and chars.dtype == torch.int64
    assert np.array_equal(chars[0].numpy(), token_char_ids(["a", "cat"]))
    assert np.array_equal(chars[1, 0].numpy(), token_char_ids(["dog"])[0])
    assert (chars[1, 1] == 0).all()
