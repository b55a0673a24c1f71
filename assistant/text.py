"""Plain-text word utilities shared by retrieval and answering (they import nothing).

``terms`` gives the content words of a text, roughly stemmed, for BM25 and the
sentence ranker; ``stem`` is the rough stemmer behind it; ``truecase`` gives a question
typed in lower case the names as the reports write them (``name_casing``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d[\d,]*(?:\.\d+)?")
_ABBREVIATION_RE = re.compile(r"\b(?:[A-Za-z]\.){2,}")  # U.S., U.K., e.g.
STOPWORDS = frozenset(
    (
        "a an the and or but if of to in on at by for with from as into about over under than "
        "then so that this these those there here is are was were be been being has have had "
        "do does did done it its it's they them their he him his she her we our you your i me "
        "my not no nor also just which who whom whose what when where why how will would can "
        "could may might shall should must said says say according report reports reported "
        "reportedly article passage passages such more most other some any each both all up "
        "out very own same one"
    ).split()
)


_DOUBLED = frozenset("bgmnprt")  # consonants English doubles before "-ed" and "-ing"


def stem(word: str) -> str:
    """A rough stem: the plural goes first, then one derivational ending.

    Stripping in that order keeps related forms together: "approvals",
    "approval", "approved" and "approving" all become "approv".
    """
    word = word.lower().replace("’", "'")
    word = re.sub(r"'s$", "", word).strip("'-")
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")) and len(word) >= 5:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) >= 4:
        word = word[:-1]
    for suffix in ("ations", "ation", "ings", "ing", "ed", "al", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            # a consonant doubled before the ending: "barred", "shipped" (not "added",
            # "called", "passed", whose own words end so)
            if suffix in ("ings", "ing", "ed") and word[-1] == word[-2] and word[-1] in _DOUBLED:
                word = word[:-1]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str) -> set[str]:
    """Content words of ``text``: lower-cased, roughly singular, stopwords dropped.

    Dotted abbreviations count as one word: "U.S." is "us", as "US" is.
    """
    return {root for _, root in terms_in_order(text)}


def terms_in_order(text: str) -> list[tuple[str, str]]:
    """The content words of ``text`` in order, each as (word as written, its term)."""
    out = []
    text = _ABBREVIATION_RE.sub(lambda m: m.group().replace(".", ""), text)
    for word in _WORD_RE.findall(text):
        if word.lower().replace("’", "'") in STOPWORDS:
            continue
        root = stem(word.replace(",", "")) if word[0].isalpha() else word.replace(",", "")
        if root and root not in STOPWORDS and (len(root) > 1 or root.isdigit()):
            out.append((word, root))
    return out


_CASED_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def name_casing(texts: Iterable[str]) -> dict[str, str]:
    """How the texts write their names: lower case → the one capitalised form they use.

    A word counts when the texts never write it in lower case and always capitalise it
    the same way ("Nvidia", "Beijing", "H200"); "The" (also "the") does not.
    """
    forms: dict[str, set[str]] = {}
    for text in texts:
        for word in _CASED_RE.findall(text):
            forms.setdefault(word.lower(), set()).add(word)
    return {low: next(iter(seen)) for low, seen in forms.items()
            if len(seen) == 1 and low not in seen and len(low) > 1}


def truecase(question: str, casing: Mapping[str, str], phrases: Iterable[str] = ()) -> str:
    """A question typed all in lower case, with the names written as the texts write them.

    "can nvidia ship blackwell chips to china?" → "can Nvidia ship Blackwell chips to
    China?", so that the parse sees names; ``phrases`` (names of several words, such as
    outlets: "South China Morning Post") are written whole as given. A question with any
    capital after its first letter is the user's own casing and is returned as it is.
    """
    if re.search(r"[A-Z]", question[1:]):
        return question
    cased = _CASED_RE.sub(lambda m: casing.get(m.group(), m.group()), question)
    for phrase in phrases:
        cased = re.compile(rf"\b{re.escape(phrase)}\b", re.IGNORECASE).sub(
            phrase.replace("\\", "\\\\"), cased)
    return cased
