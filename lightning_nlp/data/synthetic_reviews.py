"""A deterministic probabilistic grammar of short reviews: the project's embedded corpus.

Each review mixes neutral sentences with several opinion sentences about aspects of a film,
book, restaurant, hotel or gadget. Opinions are positive or negative words, sometimes negated
("was not boring") or hedged, and they are shuffled through the text. The label is the
majority polarity of all opinion sentences, so no single sentence or position decides it:
a classifier has to read the whole review.
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


def _opinion(rng: random.Random, vocab: dict, polarity: int) -> str:
    negate = rng.random() < 0.25
    words = _POSITIVE if (polarity > 0) != negate else _NEGATIVE
    adjective = rng.choice(words)
    intensity = "" if negate else rng.choice(_INTENSIFIERS)
    no = "not " if negate else ""
    aspect = rng.choice(vocab["aspects"])
    templates = [
        f"the {aspect} was {no}{intensity}{adjective}",
        f"{rng.choice(_HEDGES)}the {aspect} is {no}{intensity}{adjective}",
        f"the {rng.choice(vocab['roles'])} {_name(rng)} did {'not do ' if negate else ''}a {intensity}{adjective} job",
        f"i found the {aspect} {no}{intensity}{adjective}",
        f"as for the {aspect} , it was {no}{adjective} at all"
        if negate
        else f"as for the {aspect} , it was {intensity}{adjective}",
        f"what a {intensity}{adjective} {aspect}"
        if not negate
        else f"the {aspect} could not be called {adjective}",
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
        num_opinions = rng.choice([3, 5, 7])
        num_majority = rng.randint(num_opinions // 2 + 1, num_opinions)
        polarities = [label] * num_majority + [-label] * (num_opinions - num_majority)
        sentences = [_opinion(rng, vocab, p) for p in polarities]
        sentences += [_neutral(rng, vocab, thing) for _ in range(rng.randint(1, 4))]
        rng.shuffle(sentences)
        text = " ".join(_sentence_case(s, rng) for s in sentences)
        yield Review(text, "positive" if label > 0 else "negative", domain)
