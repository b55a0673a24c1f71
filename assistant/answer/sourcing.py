"""Whom a report credits ("Which outlets does each article credit?"), found in code.

Such a question asks how a report is sourced, which its text states in fixed
frames: "according to Reuters", "reporting by The Information", "Bloomberg first
reported", "officials told The Information", "a source said". It is answered from
the report's whole text, not by the model: each report's sentences that attribute
something to a source, quoted in the report's order, each naming a source not
quoted before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from assistant import verify
from assistant.text import terms

# a question about whom a report credits: a crediting verb ("credit", "cite", "rely on", "lean on",
# "source its story", "base its account on", "is the story based on?"), something a report is
# sourced from, and a question word
_CREDIT_RE = re.compile(r"\b(?:credit(?:s|ed)?|cites?|cited|citing|rel(?:y|ies|ied|ying)\s+on|"
                        r"(?:is|are|was|were)\b.{1,80}\bbased\s+on\W*$|"  # "is the story based on?"
                        r"lean(?:s|ed|ing)?\s+on|"
                        r"sourc(?:e|es|ed|ing)\s+(?:its|their|the)\b|"
                        # "base its account of the meetings on", "draw on"
                        r"bas(?:e|es|ed|ing)\s+(?:its|their|the|this|that)\s+(?:account|story|stories|"
                        r"report|reporting|article|piece|coverage)\b|"
                        r"dr(?:aw|aws|ew|awn|awing)\s+on)", re.IGNORECASE)
_FROM_RE = re.compile(r"\b(?:sources?|outlets?|news|organi[sz]ations?|agenc(?:y|ies)|"
                      r"publications?|media|reporting|story|stories)\b", re.IGNORECASE)
_ASKING_RE = re.compile(r"\b(?:which|what|who|whom|whose|how)\b", re.IGNORECASE)
# not about crediting: a count of sources, what sources said, a picture's credit line
_NOT_RE = re.compile(r"\bhow\s+(?:many|much)\b|\bsources?\s+(?:familiar|say|said|told|claim)|"
                     r"\b(?:photos?|photographs?|images?|pictures?|illustrations?)\b",
                     re.IGNORECASE)


def asks_for_sources(question: str) -> bool:
    """True when ``question`` asks whom a report credits for what it says."""
    return bool(not _NOT_RE.search(question) and _CREDIT_RE.search(question)
                and _FROM_RE.search(question) and _ASKING_RE.search(question))


_OUTLETS_RE = re.compile(r"\b(?:outlets?|news\s+organi[sz]ations?|organi[sz]ations?|"
                         r"agenc(?:y|ies)|publications?|media|newspapers?|wire\s+services?)\b",
                         re.IGNORECASE)


def asks_for_outlets(question: str) -> bool:
    """True when a question about sources asks for outlets ("which news organisations")."""
    return bool(_OUTLETS_RE.search(question))


def source_key(source: str) -> str:
    """What tells sources apart: a named one by its name, every unnamed one alike.

    "a source", "the source" and "two sources familiar with the matter" are one kind
    of source; "Reuters" and "The Information" are two.
    """
    words = source.split()
    if words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    return " ".join(words).lower() if any(w[:1].isupper() for w in words) else ""


_REPORTING = frozenset({"report", "say", "add", "tell", "write", "confirm"})
_SOURCE_NOUNS = frozenset({"source", "official", "person", "people", "insider"})


_FRAMES_RE = re.compile(r"\baccording\b|\breport|\b(?:told|tells?|said|says|added|adds|wrote|"
                        r"writes|confirmed|confirms)\b", re.IGNORECASE)


def _phrase(token: Any) -> str:
    """The noun phrase of ``token``, without a relative clause ("Reuters, which ...")."""
    skipped = {t.i for c in token.children if c.dep_ in ("relcl", "acl", "appos", "punct")
               for t in c.subtree}
    return " ".join(t.text for t in token.subtree if t.i not in skipped).strip(" ,")


def credited(sentence: str, people: bool = True) -> list[str]:
    """The sources ``sentence`` attributes something to, as written ([] when none).

    The frames: "according to X", "reporting by X", "X (first) reported", "... told
    X" (an organisation told), "a source said" (a source, an official, people
    familiar with the matter), "said Randy Abrams" (a person speaking; only with
    ``people``).
    """
    if not _FRAMES_RE.search(sentence):  # parse only what may hold a frame
        return []
    found: list[str] = []
    for token in verify.parse(sentence):
        if token.lower_ == "according":
            found += [_phrase(c) for to in token.children if to.lower_ == "to"
                      for c in to.children if c.dep_ == "pobj"]
        elif token.lower_ == "by" and token.head.lemma_.lower() in ("reporting", "report"):
            found += [_phrase(c) for c in token.children if c.dep_ == "pobj"]
        elif token.pos_ == "VERB" and token.lemma_.lower() in _REPORTING:
            verb = token.lemma_.lower()
            for c in token.children:
                named = c.pos_ == "PROPN" or c.ent_type_ in ("ORG", "PERSON")
                speaker = c.ent_type_ == "PERSON" or c.lemma_.lower() in _SOURCE_NOUNS
                subject = c.dep_ in ("nsubj", "nsubjpass") and (
                    (named and verb == "report") or (people and speaker))
                told = c.dep_ in ("dobj", "dative") and verb == "tell" and (
                    c.ent_type_ == "ORG" or c.pos_ == "PROPN")
                if subject or told:
                    found.append(_phrase(c))
    # "according to reporting by The Information": the outlet, not the reporting
    return [f for f in dict.fromkeys(found)
            if f and not any(f != g and g in f and f.lower().startswith(("report", "the report"))
                             for g in found)]


# "Which news agency first broke the story ...?", "... based on reporting from which
# outlet?": the outlet a report credits with the reporting the question describes
_WHICH_OUTLET_RE = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:outlets?|agenc(?:y|ies)|"
                              r"publications?|newspapers?|wire\s+services?|media\s+outlets?|"
                              r"news\s+organi[sz]ations?)\b", re.IGNORECASE)
_REPORTED_RE = re.compile(r"\b(?:report(?:s|ed|ing)?|broke|break(?:s|ing)?|reveal(?:s|ed)?|"
                          r"scoop(?:ed)?|first)\b", re.IGNORECASE)  # not "published the
# article headlined ...": the report's own outlet


def asks_which_outlet(question: str) -> bool:
    """True when ``question`` asks which outlet reported something ("Which agency broke ...?")."""
    return bool(_WHICH_OUTLET_RE.search(question) and _REPORTED_RE.search(question))


def credited_for(question: str, sentence: str,
                 weight: Callable[[str], float] = lambda _: 1.0) -> tuple[str, float]:
    """The outlet ``sentence`` credits with what ``question`` describes, and how closely.

    ``("", 0)`` when it credits none; the number is the question's content words in
    the source's words, each counted by its ``weight`` (how rare it is, say: "November"
    tells sources apart better than "H200").

    Of the named sources the sentence credits (not people), the one whose words up to
    the next source share the most content words with the question: "after Bloomberg
    first reported in November that ..., and, according to Reuters, ..." gives
    Bloomberg for "Which outlet reported in November that ...?".
    """
    sources = [s for s in credited(sentence, people=False) if source_key(s)]
    if not sources:
        return "", 0
    asked = terms(question)
    starts = [sentence.find(s) for s in sources]
    spans = []
    for order, (source, at) in enumerate(zip(sources, starts, strict=True)):
        end = min((s for s in starts if s > at), default=len(sentence))  # the next source
        window = sentence[max(0, at - 40):end]
        spans.append((sum(map(weight, asked & terms(window))), -order, source))
    words, _, source = max(spans)
    return source, words
