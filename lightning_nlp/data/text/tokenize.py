"""Tokenisers: str -> list[str]. Each is a small picklable class, so worker processes can use it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Literal

TokenizerName = Literal["whitespace", "sst", "nltk", "ulmfit"]

# Marker tokens of the ULMFiT rules (Howard & Ruder 2018, fastai's text.transform).
BOS = "<bos>"
UNK = "<unk>"
TK_MAJ, TK_UP, TK_REP, TK_WREP = "xxmaj", "xxup", "xxrep", "xxwrep"


class WhitespaceTokenizer:
    """Splits on runs of whitespace; for pre-tokenised corpora such as WikiText and PTB."""

    name = "whitespace"

    def __call__(self, text: str) -> list[str]:
        return text.split()


class SSTTokenizer:
    """Lowercases and keeps letters, digits and ( ) , ! ? ' `; splits clitics and punctuation.

    These are the cleaning rules used with the SST and MR sentence data (Kim 2014).
    """

    name = "sst"
    _drop = re.compile(r"[^a-z0-9(),!?'`]")
    _clitics = re.compile(r"('s|'ve|n't|'re|'d|'ll)\b")
    _punct = re.compile(r"([(),!?])")

    def __call__(self, text: str) -> list[str]:
        text = self._drop.sub(" ", text.lower())
        text = self._clitics.sub(r" \1", text)
        return self._punct.sub(r" \1 ", text).split()


class NLTKTokenizer:
    """NLTK's Treebank-style word tokeniser, after a regex sentence split (no punkt download)."""

    name = "nltk"
    _sentence_end = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])")

    def __init__(self) -> None:
        from nltk.tokenize import NLTKWordTokenizer

        self._word_tokenizer = NLTKWordTokenizer()

    def __call__(self, text: str) -> list[str]:
        return [
            token
            for sentence in self._sentence_end.split(text)
            for token in self._word_tokenizer.tokenize(sentence)
        ]


class ULMFiTTokenizer:
    """ULMFiT's rules: HTML fix-up, repetition and capitalisation markers, lower-cased words.

    A text becomes `<bos>` followed by its tokens; `xxmaj w` marks a capitalised word,
    `xxup w` an all-caps word, `xxrep n c` a character repeated n >= 4 times and
    `xxwrep n w` a word repeated n >= 3 times.
    """

    name = "ulmfit"
    _html_fixes = (
        ("<br />", "\n"),
        ("<br/>", "\n"),
        ("<br>", "\n"),
        ("\\n", "\n"),
        ('\\"', '"'),
        (" @-@ ", "-"),
        (" @,@ ", ","),
        (" @.@ ", "."),
    )
    _spaces = re.compile(r"\s+")
    _slash_hash = re.compile(r"([/#\\])")
    _char_repeat = re.compile(r"(\S)(\1{3,})")
    _clitic_nt = re.compile(r"(\w)(n't)\b", re.IGNORECASE)
    _clitic = re.compile(r"(\w)('s|'re|'ve|'d|'ll|'m)\b", re.IGNORECASE)
    _token = re.compile(r"<unk>|n't|N'T|'\w+|\w+(?:[-.']\w+)*|[^\w\s]")

    def __call__(self, text: str) -> list[str]:
        for old, new in self._html_fixes:
            text = text.replace(old, new)
        text = html.unescape(text)
        text = self._slash_hash.sub(r" \1 ", text)
        text = self._char_repeat.sub(lambda m: f" {TK_REP} {len(m.group(0))} {m.group(1)} ", text)
        text = self._clitic_nt.sub(r"\1 \2", text)
        text = self._clitic.sub(r"\1 \2", text)
        tokens = [BOS]
        for word in self._repeat_words(self._token.findall(text)):
            if word == UNK:
                tokens.append(word)
            elif len(word) > 1 and word.isupper():
                tokens += [TK_UP, word.lower()]
            elif word[0].isupper():
                tokens += [TK_MAJ, word.lower()]
            else:
                tokens.append(word.lower())
        return tokens

    @staticmethod
    def _repeat_words(words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            j = i + 1
            while j < len(words) and words[j] == words[i]:
                j += 1
            out += [TK_WREP, str(j - i), words[i]] if j - i >= 3 else words[i:j]
            i = j
        return out


MARKERS = (TK_MAJ, TK_UP, TK_REP, TK_WREP)


def undo_markers(tokens: list[str]) -> list[str]:
    """The words that ULMFiT's markers stand for, for reading generated text: `xxmaj w` -> `W`,
    `xxup w` -> `W` in capitals, `xxrep n c` -> c repeated n times, `xxwrep n w` -> n words w
    (the repeated unit may carry a case marker itself: "Very Very Very" is `xxwrep 3 xxmaj
    very`); `<bos>` and a marker with nothing to apply to (cut off at the end, or followed by
    another marker where a word should be) are dropped."""

    def word_at(j: int) -> tuple[str | None, int]:
        """The (cased) word starting at j and the position after it; None if there is none."""
        if j < len(tokens) and tokens[j] in (TK_MAJ, TK_UP):
            if j + 1 < len(tokens) and tokens[j + 1] not in (*MARKERS, BOS):
                word = tokens[j + 1]
                return (word.upper() if tokens[j] == TK_UP else word[:1].upper() + word[1:]), j + 2
            return None, j + 1
        if j < len(tokens) and tokens[j] not in (*MARKERS, BOS):
            return tokens[j], j + 1
        return None, j

    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in (TK_REP, TK_WREP) and i + 1 < len(tokens) and tokens[i + 1].isdigit():
            unit, after = word_at(i + 2)
            if unit is not None:
                count = int(tokens[i + 1])
                out += [unit * count] if token == TK_REP else [unit] * count
                i = after
                continue
        word, after = word_at(i)
        if word is not None:
            out.append(word)
        i = max(after, i + 1)
    return out


_TOKENIZERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "whitespace": WhitespaceTokenizer,
    "sst": SSTTokenizer,
    "nltk": NLTKTokenizer,
    "ulmfit": ULMFiTTokenizer,
}


def get_tokenizer(name: TokenizerName) -> Callable[[str], list[str]]:
    """The tokeniser registered under `name`."""
    if name not in _TOKENIZERS:
        raise ValueError(f"unknown tokenizer {name!r}; choose one of {sorted(_TOKENIZERS)}")
    return _TOKENIZERS[name]()
