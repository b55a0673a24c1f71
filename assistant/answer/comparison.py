"""Claims about several reports at once.

A sentence such as "Both reports say the chips were approved" or "The SCMP and
Tom's Hardware agree that ..." is a claim about the reports, not a fact that one
passage states. Two kinds are told apart here:

* a *relation* between reports ("agree", "differ", "contradict", "the same"):
  no passage states it, and word overlap cannot check it (two passages that
  share their words may say opposite things), so it is never presented as cited;
* a claim *about several* reports ("both reports", "each outlet", two outlets
  named): it stands only when passages of at least two reports support it, and
  then it cites one passage of each.

Reports are recognised by their outlet's name or its initials ("South China
Morning Post" is also "SCMP"), and by words such as "both reports". A question
about several reports is searched without those words (:func:`without_reports`),
so "both" does not match "both agencies".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from assistant.records import Document

_GROUP_RE = re.compile(
    r"\b(?:both|all|two|each|either|neither)\b(?:\s+(?:of\s+)?(?:the\s+)?\w+)?\s+"
    r"(?:reports?|outlets?|articles?|stories|publications?|newspapers?|pieces?|"
    r"write-?ups?)\b|"  # "the two pieces" (v-31)
    r"\b(?:the|these)\s+(?:reports|outlets|articles|publications|pieces)\b|"
    r"\bwhich\s+(?:of\s+the\s+)?(?:reports?|articles?)\b",  # not "which publication":
    # a reported source (Reuters, The Information) is one too
    re.IGNORECASE,
)
_RELATION_RE = re.compile(
    r"\b(?:agree[sd]?|agreement|disagree[sd]?|disagreement|differ(?:s|ed|ent|ence|ences)?|"
    r"contradict\w*|(?:in)?consistent|conflict(?:s|ing)?|the same)\b",
    re.IGNORECASE,
)


_OUTLET_WORD_RE = re.compile(r"[A-Za-z][\w'’]*")


def outlet_aliases(outlet: str) -> tuple[str, ...]:
    """An outlet's names: itself, and its initials when it has three words or more."""
    words = _OUTLET_WORD_RE.findall(outlet)
    found = [outlet]
    if len(words) >= 3 and all(w[0].isupper() for w in words):
        found.append("".join(w[0] for w in words))
    return tuple(found)


def outlet_names(documents: Iterable[Document]) -> dict[str, tuple[str, ...]]:
    """Each report's names (:func:`outlet_aliases`); reports without an outlet have none."""
    return {doc.doc_id: outlet_aliases(doc.outlet) for doc in documents if doc.outlet}


def self_reference(outlet: str) -> re.Pattern[str] | None:
    """How a report of ``outlet`` may call its own outlet: "the Post" (South China Morning Post).

    English newspapers speak of themselves by the last word of their name with "the"
    ("the Post", "the Journal", "the Times"), capitalised. Only an outlet of two words or
    more has such a form, and it means that outlet only in the outlet's own reports.
    """
    words = _OUTLET_WORD_RE.findall(outlet)
    if len(words) < 2 or not words[-1][0].isupper() or words[-1].isupper():
        return None
    return re.compile(rf"\b[Tt]he\s+{re.escape(words[-1])}\b")


def _alias_re(alias: str) -> re.Pattern[str]:
    """A name as a whole phrase: initials ("SCMP") in capitals only, names in any case."""
    return re.compile(rf"\b{re.escape(alias.replace('’', chr(39)))}\b",
                      0 if alias.isupper() else re.IGNORECASE)


def named_reports(text: str, names: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The reports (doc ids) whose outlet ``text`` names."""
    flat = text.replace("’", "'")
    return {doc_id for doc_id, aliases in names.items()
            if any(_alias_re(a).search(flat) for a in aliases)}


def about_several(text: str, names: Mapping[str, tuple[str, ...]]) -> bool:
    """True when ``text`` speaks of several reports ("both reports", two outlets named)."""
    return bool(_GROUP_RE.search(text)) or len(named_reports(text, names)) >= 2


_PAIR_RE = re.compile(r"\b(?:both|two|either|neither)\b", re.IGNORECASE)


def how_many(text: str) -> int | None:
    """How many reports ``text`` speaks of: 2 for "both" or "two", ``None`` for all."""
    group = _GROUP_RE.search(text)
    return 2 if group is not None and _PAIR_RE.search(group.group()) else None


def relates_reports(text: str, names: Mapping[str, tuple[str, ...]]) -> bool:
    """True when ``text`` says how reports relate: that they agree, differ or say the same."""
    return about_several(text, names) and bool(_RELATION_RE.search(text))


def without_reports(text: str, names: Mapping[str, tuple[str, ...]]) -> str:
    """``text`` without the words that name reports or how they relate, for ranking."""
    flat = _GROUP_RE.sub(" ", text.replace("’", "'"))
    for aliases in names.values():
        for alias in aliases:
            flat = _alias_re(alias).sub(" ", flat)
    flat = _RELATION_RE.sub(" ", flat)
    return " ".join(flat.split())
