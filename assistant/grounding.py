"""Check an answer against its passages, sentence by sentence, in code.

Each sentence of the answer must be supported by a passage it cites: every number
in the sentence appears in the passage, and most of its content words do. A
sentence whose markers point at a passage that does not support it is re-cited
to the retrieved passage that does; a sentence no passage supports is taken out
of the answer and reported as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.chunking import sentence_spans
from assistant.citations import MARKER_RE, markers

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d[\d,]*(?:\.\d+)?")
_NUMBER_RE = re.compile(r"(?<![A-Za-z\d.])\d[\d,]*(?:\.\d+)?(?![A-Za-z\d])")
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
MIN_SUPPORT = 0.5


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    word = re.sub(r"'s$", "", word).strip("'-")
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    for suffix in ("ations", "ation", "ings", "ing", "ed", "es", "s", "al", "ly"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word


def numbers(text: str) -> set[str]:
    """Numbers in ``text``, normalised (``400,000`` → ``400000``)."""
    return {n.replace(",", "").rstrip(".") for n in _NUMBER_RE.findall(text)}


def terms(text: str) -> set[str]:
    """Content words of ``text``: lower-cased, roughly singular, stopwords dropped."""
    out = set()
    for word in _WORD_RE.findall(text):
        stem = _stem(word.replace(",", "")) if word[0].isalpha() else word.replace(",", "")
        if stem and stem not in STOPWORDS and (len(stem) > 1 or stem.isdigit()):
            out.add(stem)
    return out


def support(sentence: str, evidence: str) -> float:
    """How well ``evidence`` supports ``sentence``.

    0 when a number of the sentence is missing from the evidence, else the share of
    the sentence's content words that the evidence contains.
    """
    if numbers(sentence) - numbers(evidence):
        return 0.0
    wanted = terms(sentence)
    if not wanted:
        return 1.0
    return len(wanted & terms(evidence)) / len(wanted)


@dataclass(frozen=True)
class GroundedSentence:
    """A sentence of the answer with the passages (1-based numbers) that support it."""

    text: str
    passages: tuple[int, ...]
    score: float


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with their markers.

    A marker right after a full stop belongs to that sentence, unless the sentence
    already ends with a marker; then it opens the next one.
    """
    text = re.sub(r"(?<!\])([.!?])\s*((?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]\s*)+)", r" \2\1 ", text)
    out = []
    for start, end in sentence_spans(text, 0, len(text)):
        sentence = text[start:end]
        found = markers(sentence)
        bare = MARKER_RE.sub("", sentence)
        bare = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", bare)).strip()
        if bare.strip(" .,;:!?"):
            out.append((bare, found))
        elif out and found:
            out[-1][1].extend(found)
    return out


def ground(text: str, evidence: Sequence[str]) -> tuple[list[GroundedSentence], list[str]]:
    """Check each sentence of ``text`` against ``evidence`` (passage texts, marker n = index + 1).

    Returns the supported sentences with the passages that support them, and the
    unsupported sentences.
    """
    grounded: list[GroundedSentence] = []
    unsupported: list[str] = []
    for sentence, cited in split_answer(text):
        scores = {n: support(sentence, evidence[n - 1]) for n in range(1, len(evidence) + 1)}
        own = [n for n in dict.fromkeys(cited) if n in scores and scores[n] >= MIN_SUPPORT]
        if own:
            grounded.append(GroundedSentence(sentence, tuple(own), max(scores[n] for n in own)))
            continue
        best = max(scores, key=lambda n: (scores[n], -n), default=None)
        if best is not None and scores[best] >= MIN_SUPPORT:
            grounded.append(GroundedSentence(sentence, (best,), scores[best]))
        else:
            unsupported.append(sentence)
    return grounded, unsupported


def render(sentences: Sequence[GroundedSentence]) -> str:
    """The answer text with each sentence's markers before its final punctuation."""
    parts = []
    for s in sentences:
        body = s.text.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        body = body[:-1].rstrip() if body[-1] in ".!?" else body
        parts.append(body + " " + "".join(f"[{n}]" for n in s.passages) + end)
    return " ".join(parts)
