"""Tokens as ELMo character ids (Peters et al. 2018, the published bilm-tf conventions).

A token becomes 50 ids: begin-of-word, its UTF-8 bytes (at most 48), end-of-word, then
padding. The sentence sentinels are tokens of their own, made of one special character.
Every id is shifted by one, so that an all-zero row means "no token" (batch padding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

MAX_WORD_LENGTH = 50
NUM_CHARACTERS = 262  # 256 bytes + 5 specials + the zero id of batch padding
BOS_CHAR, EOS_CHAR, BOW_CHAR, EOW_CHAR, PAD_CHAR = 256, 257, 258, 259, 260


def _special_token(char: int) -> np.ndarray:
    ids = np.full(MAX_WORD_LENGTH, PAD_CHAR, dtype=np.int64)
    ids[:3] = (BOW_CHAR, char, EOW_CHAR)
    return ids + 1


BOS_IDS = _special_token(BOS_CHAR)  # (50,) the begin-of-sentence token
EOS_IDS = _special_token(EOS_CHAR)  # (50,) the end-of-sentence token


def token_char_ids(tokens: Sequence[str]) -> np.ndarray:
    """(N, 50) int64 char ids of N tokens; bytes past the 48th are cut off."""
    ids = np.full((len(tokens), MAX_WORD_LENGTH), PAD_CHAR + 1, dtype=np.int64)
    for row, token in enumerate(tokens):
        raw = np.frombuffer(token.encode("utf-8", "ignore")[: MAX_WORD_LENGTH - 2], np.uint8)
        ids[row, 0] = BOW_CHAR + 1
        ids[row, 1 : len(raw) + 1] = raw.astype(np.int64) + 1
        ids[row, len(raw) + 1] = EOW_CHAR + 1
    return ids


def lowercase_char_ids(chars: Tensor) -> Tensor:
    """Char ids of any shape with the ASCII capitals A-Z replaced by a-z (other bytes, the
    specials and padding unchanged): what a case-insensitive biLM reads."""
    capital = (chars >= ord("A") + 1) & (chars <= ord("Z") + 1)
    return torch.where(capital, chars + (ord("a") - ord("A")), chars)


def batch_char_ids(sentences: Sequence[Sequence[str]]) -> Tensor:
    """(B, T, 50) char ids of a batch of tokenised sentences, T the longest; each distinct
    token is encoded once, then gathered; padding positions are all zeros."""
    distinct = sorted({token for sentence in sentences for token in sentence})
    table = np.zeros((len(distinct) + 1, MAX_WORD_LENGTH), dtype=np.int64)  # row 0: padding
    table[1:] = token_char_ids(distinct)
    index = {token: i + 1 for i, token in enumerate(distinct)}
    longest = max((len(s) for s in sentences), default=0)
    rows = np.zeros((len(sentences), longest), dtype=np.int64)
    for b, sentence in enumerate(sentences):
        rows[b, : len(sentence)] = [index[token] for token in sentence]
    return torch.from_numpy(table[rows])  # (B, T, 50)
