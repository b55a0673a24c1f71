"""Whether a report mentions something ("Does the SCMP mention the 25% levy?"), found in code.

Such a question asks about the report's text, not about the world, so it is
answered by searching that text whole, not by the model: "Yes" with the first
sentence that names what is asked, or "No" when no sentence of the report does.
A "no" can only be trusted for a name or a figure, which a report writes as they
are; a common noun may stand under another word ("levy" for "tax"), so a
question asking only about common nouns gets a "yes" or is left to the other
steps.

"Mention" covers the English verbs that ask whether a text speaks of something:
mention, name, cite, quote, reference, discuss, refer to, include. "Quote" also
asks for the words themselves: the sentence must hold a quotation and name the
person, or follow a sentence that names them and refer back ("..., he said").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant import verify
from assistant.answer import comparison, gate, target
from assistant.ingest.chunking import sentence_spans
from assistant.records import Document
from assistant.text import terms

_ASK_RE = re.compile(
    r"^\W*(?:does|do|did)\s+(?P<subject>.+?)\s+(?:(?:ever|even|also|actually|directly|"
    r"explicitly|specifically)\s+)*(?P<verb>mention|name|cite|quote|reference|discuss|"
    r"refer\s+to|include)\b(?P<rest>[^?]*)\??\s*$",
    re.IGNORECASE)
# what follows the thing asked about and is not part of it: a relative clause ("... that
# Tom's Hardware describes"), "or only one of them", "at all", "directly"
_TAIL_RE = re.compile(r"(?:,?\s+(?:that|which|who|whom|or|at all|anywhere|directly|"
                      r"explicitly|by name)\b.*)$", re.IGNORECASE)
# a report spoken of without its outlet: "the report", "both articles", "either story"
_REPORT_RE = re.compile(r"\b(?:reports?|articles?|stories|story|pieces?|outlets?|coverage|"
                        r"publications?)\b", re.IGNORECASE)
_QUOTE_MARKS = ("“", "”", '"')


@dataclass(frozen=True)
class Asked:
    """A question whether reports mention something."""

    reports: tuple[str, ...]  # doc ids asked about, in the order named
    verb: str  # "mention", "quote", ...
    thing: str  # what is asked about, as written ("the 25% US levy")
    rare: tuple[str, ...]  # its names and figures (a "no" rests on them alone)
    words: frozenset[str]  # its content words' stems


def asked(question: str, names: Mapping[str, tuple[str, ...]],
          reports: Sequence[str]) -> Asked | None:
    """What ``question`` asks to be found, or ``None`` when it asks no such thing.

    ``names`` are the reports' outlet names (:func:`comparison.outlet_names`);
    ``reports`` every report that may be asked about, for "both reports" or "the
    article" (a report not named by its outlet).
    """
    match = _ASK_RE.match(question.strip())
    if match is None or comparison.relates_reports(question, names):
        return None  # "Do the reports name the same companies?" compares them
    subject = match.group("subject")
    named = comparison.named_reports(subject, names)
    if not named and not _REPORT_RE.search(subject):
        return None  # "Does Huang mention ...?" asks what Huang said
    order = (sorted(named, key=lambda d: min((subject.find(a) for a in names.get(d, ())
                                              if a in subject), default=0))
             if named else list(reports))  # in the order the question names them
    thing = _TAIL_RE.sub("", match.group("rest")).strip(" ,.")
    thing = comparison.without_reports(thing, names).strip(" ,.")
    rare = tuple(w for w in gate.rare_words(thing) if not comparison.named_reports(w, names)
                 and not (w.isalpha() and w.islower()))  # "three": a count, not a name
    rare = tuple(_with_unit(w, thing) for w in rare)
    words = frozenset(terms(thing))
    if not thing or not (rare or words):
        return None
    verb = " ".join(match.group("verb").lower().split())
    return Asked(tuple(order), verb, thing, rare, words)


def found(want: Asked, doc: Document) -> tuple[int, int] | None:
    """The span of the first sentence of ``doc`` that names what is asked (``None``: none).

    It names every name and figure asked about, or, when none is asked, every
    content word. For "quote": a sentence holding a quotation that names the person,
    or that refers back to the sentence before it, which does.
    """
    spans = sentence_spans(doc.text, 0, len(doc.text))
    texts = [doc.text[a:b] for a, b in spans]
    for i, text in enumerate(texts):
        if want.verb == "quote":
            if not any(q in text for q in _QUOTE_MARKS):
                continue
            before = texts[i - 1] if i else ""
            if not (_names(want, text) or (before and _names(want, before)
                                           and target.refers_back(text, before))):
                continue
            return spans[i]
        if _names(want, text):
            return spans[i]
    return None


def _with_unit(word: str, thing: str) -> str:
    """A figure as the question writes it, with its currency and unit ("25" → "25%")."""
    if not verify.numbers(word):
        return word
    found = re.search(rf"\$?{re.escape(word)}(?:\s*(?:%|per ?cent\b|percent\b|billion\b|"
                      rf"million\b|bn\b))?", thing)
    return found.group() if found else word


def absent(want: Asked, doc: Document) -> tuple[str, ...]:
    """The names and figures asked about that ``doc`` writes nowhere."""
    return tuple(w for w in want.rare if not _mentions(doc.text, w))


def _names(want: Asked, text: str) -> bool:
    if want.rare:
        return all(_mentions(text, word) for word in want.rare)
    return want.words <= terms(text)


def _mentions(text: str, word: str) -> bool:
    figures = verify.numbers(word)
    if figures:  # "25%" is written "25 per cent" too
        return any(n.value == figures[0].value and n.kind == figures[0].kind
                   for n in verify.numbers(text))
    return verify.mentions(text, word)
