"""Citation markers: parse ``[n]`` from answers, keep only those that point at passages, and ids.

A citation id names a span of a document's clean text and a short hash of the
span, ``<doc_id>:<start>-<end>:<hash8>`` (the format is defined with the records:
:func:`assistant.records.make_id`). It does not depend on how the index was
built, so it stays valid across re-indexing while the document is unchanged, and
a changed document is detected instead of showing the wrong text. The marker
pattern and the id functions are the records' (:data:`MARKER_RE`, :func:`make_id`,
:func:`span_hash` are re-exported here for answering).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.errors import CitationError
from assistant.records import MARKER_RE as MARKER_RE
from assistant.records import (
    Answer,
    Citation,
    Document,
    Hit,
    Passage,
    heading_path,
    marker_numbers,
    page_of,
)
from assistant.records import make_id as make_id
from assistant.records import span_hash as span_hash

_ID_RE = re.compile(
    r"^(?P<doc>[A-Za-z0-9][A-Za-z0-9._-]{0,127}):(?P<start>\d+)-(?P<end>\d+):(?P<h>[0-9a-f]{8})$"
)


@dataclass(frozen=True)
class CitationRef:
    """A parsed citation id."""

    doc_id: str
    start: int
    end: int
    digest: str


def parse_id(citation_id: str) -> CitationRef:
    """Parse a citation id, or raise CitationError saying what is wrong."""
    match = _ID_RE.match(citation_id.strip())
    if not match:
        raise CitationError(
            "that is not a citation id (expected something like "
            "'report-name:120-480:1a2b3c4d')"
        )
    start, end = int(match.group("start")), int(match.group("end"))
    if end <= start:
        raise CitationError("that citation id has an empty span")
    return CitationRef(match.group("doc"), start, end, match.group("h"))


def resolve(ref: CitationRef, doc: Document) -> str:
    """The cited text, checked against the id's hash."""
    if ref.end > len(doc.text):
        raise CitationError("that citation points past the end of its report; "
                            "the report has changed since it was cited")
    text = doc.text[ref.start : ref.end]
    if span_hash(text) != ref.digest:
        raise CitationError("the report has changed since this citation was made; "
                            "ask the question again for a fresh citation")
    return text


def passage(doc: Document, citation_id: str, context_chars: int,
            heading_chars: int | None = None) -> Passage:
    """The passage ``citation_id`` names in ``doc``, with up to ``context_chars`` around it.

    Its ``heading`` is the heading path where the cited span starts, each heading below
    the title cut to ``heading_chars`` characters as the passages' are (``None``: whole).

    Raises :class:`CitationError` when the id is malformed, names another report, or
    no longer matches the report's text.
    """
    ref = parse_id(citation_id)
    if ref.doc_id != doc.doc_id:
        raise CitationError(f"that citation is of report {ref.doc_id!r}, not {doc.doc_id!r}")
    text = resolve(ref, doc)
    before_start = max(0, ref.start - context_chars)
    after_end = min(len(doc.text), ref.end + context_chars)
    return Passage(
        citation_id=citation_id.strip(), doc_id=doc.doc_id, title=doc.title,
        outlet=doc.outlet, authors=doc.authors, date=doc.date, url=doc.url,
        start=ref.start, end=ref.end, text=text,
        before=doc.text[before_start : ref.start], after=doc.text[ref.end : after_end],
        page=page_of(doc, ref.start), heading=heading_path(doc, ref.start, heading_chars),
    )


def markers(text: str) -> list[int]:
    """Every marker number in ``text``, in order of appearance (``[1, 2]`` counts both)."""
    found: list[int] = []
    for match in MARKER_RE.finditer(text):
        found.extend(marker_numbers(match))
    return found


def strip_invalid(text: str, valid: set[int]) -> str:
    """Remove marker numbers not in ``valid`` (and markers left empty)."""

    def fix(match: re.Match[str]) -> str:
        kept = [n for n in re.split(r"\s*[,;]\s*", match.group(1)) if int(n) in valid]
        return "".join(f"[{n}]" for n in kept)

    cleaned = MARKER_RE.sub(fix, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()


def build_citations(text: str, hits: list[Hit], titles: dict[str, str | None],
                    supports: Mapping[int, Sequence[str]] | None = None) -> tuple[
    str, tuple[Citation, ...]
]:
    """Keep markers that refer to the numbered passages ``hits`` (1-based) and map each.

    ``supports`` gives, per marker, the sentences of its passage that support the
    answer; the citation then quotes just those (from the first to the last).
    Returns the answer text with invalid markers removed, and one Citation per
    distinct marker, ordered by first appearance.
    """
    valid = set(range(1, len(hits) + 1))
    cleaned = strip_invalid(text, valid)
    seen: list[int] = []
    for n in markers(cleaned):
        if n not in seen:
            seen.append(n)
    citations = []
    for n in seen:
        chunk = hits[n - 1].chunk
        lo, hi = _span_within(chunk.text, (supports or {}).get(n, ()))
        quote = chunk.text[lo:hi]
        start = chunk.start + lo
        citations.append(Citation(
            n=n, id=make_id(chunk.doc_id, start, start + len(quote), quote),
            doc_id=chunk.doc_id, title=titles.get(chunk.doc_id), start=start,
            end=start + len(quote), quote=quote,
            passage_start=chunk.start, passage_end=chunk.end,
        ))
    return cleaned, tuple(citations)


def _span_within(text: str, sentences: Sequence[str]) -> tuple[int, int]:
    """Offsets in ``text`` from the first to the last of ``sentences`` (all of it if none)."""
    found = [(i, i + len(s)) for s in sentences if s and (i := text.find(s)) >= 0]
    if not found:
        return 0, len(text)
    return min(a for a, _ in found), max(b for _, b in found)


def with_pages(answer: Answer, docs: Mapping[str, Document]) -> Answer:
    """``answer`` with the page of each citation's quote, for reports with pages (PDFs)."""

    def paged(cited: tuple[Citation, ...]) -> tuple[Citation, ...]:
        return tuple(dataclasses.replace(c, page=page_of(doc, c.start))
                     if (doc := docs.get(c.doc_id)) is not None and doc.pages else c
                     for c in cited)

    if not any(docs[c.doc_id].pages for c in (*answer.citations, *answer.other_reports)
               if c.doc_id in docs):
        return answer
    return dataclasses.replace(answer, citations=paged(answer.citations),
                               other_reports=paged(answer.other_reports))
