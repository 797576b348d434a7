"""A deterministic probabilistic grammar of short reviews: the project's embedded corpus.

Each review mixes neutral sentences with one opinion about an aspect of a film, book,
restaurant, hotel or gadget in sentiment words of the review's polarity (its label). The
words come from a sentiment lexicon of a few common adjectives ("great", "dull") and a tail
of invented ones ("plandic", "troulent"), spelled alike for both polarities and drawn
uniformly, so that, as in real reviews, most sentiment words are rare. The film, book, gadget
and hotel reviews are wordy: two sentiment words of one polarity, then a verdict in words
("..., i would not recommend it"), as reviews on some sites give one. The restaurant reviews,
the demo's target, are terse: one sentiment word, no verdict.

So 100 labelled restaurant reviews show only about two fifths of the sentiment words, and a
classifier trained on those labels alone has never seen the one sentiment word of most test
reviews. The unlabelled text of the other domains shows every word many times beside another
of its polarity and before a verdict: a language model trained on it can learn the words'
polarity from context, without a label, and a classifier on that model needs few labels.
That is the situation ULMFiT's few-label results rest on. Labels never enter the text: the
language-model files hold the reviews alone.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

_SYLLABLES = "ka lo mi ra ve ton sel dur ni fa qu bre sha lin gor pel vic mon tes ar ob ul".split()

_DOMAINS = {
    "film": {
        "things": ["film", "movie", "picture", "feature"],
        "aspects": [
            "plot",
            "acting",
            "script",
            "soundtrack",
            "camera work",
            "ending",
            "pacing",
            "dialogue",
            "cast",
            "editing",
            "score",
            "special effects",
            "lead actor",
        ],
        "roles": ["director", "lead", "villain", "writer", "composer"],
        "places": ["a small town", "outer space", "a haunted house", "the city", "a prison"],
        "verbs": ["watched", "saw", "streamed", "caught"],
    },
    "book": {
        "things": ["book", "novel", "memoir", "story collection"],
        "aspects": [
            "prose",
            "plot",
            "characters",
            "ending",
            "translation",
            "chapters",
            "tone",
            "world building",
            "narrator",
            "cover",
        ],
        "roles": ["author", "narrator", "heroine", "translator"],
        "places": [
            "a fishing village",
            "the nineteenth century",
            "a boarding school",
            "the desert",
        ],
        "verbs": ["read", "finished", "borrowed", "listened to"],
    },
    "restaurant": {
        "things": ["restaurant", "bistro", "diner", "cafe"],
        "aspects": [
            "food",
            "service",
            "soup",
            "dessert",
            "wine list",
            "staff",
            "menu",
            "bread",
            "portions",
            "decor",
            "coffee",
            "noodles",
        ],
        "roles": ["chef", "waiter", "owner", "sommelier"],
        "places": ["the harbour", "the old town", "a side street", "the station"],
        "verbs": ["visited", "tried", "went to", "booked"],
    },
    "hotel": {
        "things": ["hotel", "hostel", "guest house", "resort"],
        "aspects": [
            "room",
            "bed",
            "breakfast",
            "pool",
            "location",
            "view",
            "reception",
            "bathroom",
            "wifi",
            "cleaning",
        ],
        "roles": ["manager", "receptionist", "porter", "host"],
        "places": ["the beach", "the mountains", "the airport", "the centre"],
        "verbs": ["stayed at", "booked", "chose", "picked"],
    },
    "gadget": {
        "things": ["phone", "laptop", "camera", "speaker", "watch"],
        "aspects": [
            "battery",
            "screen",
            "keyboard",
            "sound",
            "build quality",
            "software",
            "charger",
            "price",
            "camera",
            "manual",
            "design",
        ],
        "roles": ["seller", "support team", "maker", "courier"],
        "places": ["a big store", "an online shop", "the market", "a friend"],
        "verbs": ["bought", "ordered", "tested", "used"],
    },
}
_POSITIVE = [
    "good",
    "great",
    "excellent",
    "wonderful",
    "superb",
    "delightful",
    "charming",
    "brilliant",
    "solid",
    "lovely",
    "memorable",
    "impressive",
    "fresh",
    "clever",
]
_NEGATIVE = [
    "bad",
    "awful",
    "dull",
    "terrible",
    "boring",
    "weak",
    "sloppy",
    "bland",
    "disappointing",
    "clumsy",
    "poor",
    "forgettable",
    "annoying",
    "tedious",
]
LEXICON_SIZE = 100  # sentiment words of each polarity, common and invented


def _invented_words(count: int, seed: int = 7) -> list[str]:
    """`count` distinct invented adjectives; their spelling says nothing about polarity."""
    rng = random.Random(seed)
    onsets = "br cl dr fl gl gr pl pr sk sl sn sp st tr v z m n l r".split()
    vowels = "a e i o u ai ea ou".split()
    codas = "m n l r s x nd rt mb".split()
    suffixes = "ous ful ive ish ant ic y ent al ar".split()
    words: set[str] = set()
    while len(words) < count:
        stem = rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
        if rng.random() < 0.5:
            stem += rng.choice(vowels) + rng.choice(codas)
        words.add(stem + rng.choice(suffixes))
    return sorted(words)


def _lexicons() -> tuple[list[str], list[str]]:
    """(positive, negative) words: the common adjectives, then invented ones split at random."""
    invented = _invented_words(2 * LEXICON_SIZE - len(_POSITIVE) - len(_NEGATIVE))
    random.Random(11).shuffle(invented)
    half = LEXICON_SIZE - len(_POSITIVE)
    return _POSITIVE + invented[:half], _NEGATIVE + invented[half:]


POSITIVE_WORDS, NEGATIVE_WORDS = _lexicons()
# The film, book, gadget and hotel reviews are wordy: two sentiment words, then a verdict in
# words, as reviews on some sites give one. The restaurant reviews (the demo's target) are
# terse: one sentiment word, no verdict.
_VERDICTS = {
    1: ["i would recommend it", "highly recommended", "i will be back", "worth every penny",
        "ten out of ten", "i loved it"],
    -1: ["i would not recommend it", "avoid it", "never again", "a waste of money",
         "one out of ten", "i hated it"],
}  # fmt: skip
VERDICT_DOMAINS = ("book", "film", "gadget", "hotel")
_JOINS = ["and", "and", "and truly", ", even", "and rather"]
_INTENSIFIERS = ["", "", "very ", "really ", "quite ", "truly ", "rather ", "extremely "]
_HEDGES = ["i think ", "to be honest ", "frankly ", "in my opinion ", "", "", ""]
_COMPANIONS = ["my sister", "a friend", "my parents", "colleagues", "my partner", "the kids"]
_TIMES = ["last week", "on a rainy sunday", "in march", "after work", "on holiday", "yesterday"]


DOMAINS = tuple(sorted(_DOMAINS))


@dataclass(frozen=True)
class Review:
    text: str
    label: str  # "positive" or "negative"
    domain: str


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def _opinion(rng: random.Random, vocab: dict, polarity: int, words: int) -> str:
    """One opinion sentence with one or two sentiment words of the review's polarity."""
    chosen = rng.sample(POSITIVE_WORDS if polarity > 0 else NEGATIVE_WORDS, words)
    both = rng.choice(_INTENSIFIERS) + f" {rng.choice(_JOINS)} ".join(chosen)
    aspect = rng.choice(vocab["aspects"])
    templates = [
        f"the {aspect} was {both}",
        f"{rng.choice(_HEDGES)}the {aspect} is {both}",
        f"the {rng.choice(vocab['roles'])} {_name(rng)} was {both}",
        f"i found the {aspect} {both}",
        f"as for the {aspect} , it was {both}",
    ]
    return rng.choice(templates)


def _neutral(rng: random.Random, vocab: dict, thing: str) -> str:
    templates = [
        f"i {rng.choice(vocab['verbs'])} this {thing} {rng.choice(_TIMES)} with {rng.choice(_COMPANIONS)}",
        f"the {thing} is from {rng.choice(vocab['places'])}",
        f"it was recommended by {rng.choice(_COMPANIONS)}",
        f"the {rng.choice(vocab['roles'])} is called {_name(rng)}",
        f"we spent about {rng.randint(2, 9)} hours on it",
        f"there is a lot to say about the {rng.choice(vocab['aspects'])}",
        f"{_name(rng)} told me about it {rng.choice(_TIMES)}",
    ]
    return rng.choice(templates)


def _sentence_case(sentence: str, rng: random.Random) -> str:
    end = rng.choice([".", ".", ".", "!"])
    return sentence[0].upper() + sentence[1:] + end


def generate_reviews(num_docs: int, seed: int = 0) -> Iterator[Review]:
    """Yields `num_docs` reviews, the same ones for the same seed, about half of each label."""
    rng = random.Random(seed)
    for _ in range(num_docs):
        domain = rng.choice(DOMAINS)
        vocab = _DOMAINS[domain]
        thing = rng.choice(vocab["things"])
        label = rng.choice([1, -1])
        if domain in VERDICT_DOMAINS:
            opinion = _opinion(rng, vocab, label, 2) + f" , {rng.choice(_VERDICTS[label])}"
        else:
            opinion = _opinion(rng, vocab, label, 1)
        sentences = [opinion] + [_neutral(rng, vocab, thing) for _ in range(rng.randint(2, 4))]
        rng.shuffle(sentences)
        text = " ".join(_sentence_case(s, rng) for s in sentences)
        yield Review(text, "positive" if label > 0 else "negative", domain)
