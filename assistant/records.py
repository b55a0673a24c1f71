"""Typed records that flow through the pipeline, and the formats they carry.

Document → Chunk (a span of the document's clean text) → Hit (a scored chunk)
→ Citation (a marker of the answer mapped to a passage) → Answer.
All are frozen: a stage never edits what an earlier stage produced.

An answer's text cites with markers such as ``[1]`` or ``[1, 2]`` (:data:`MARKER_RE`);
:meth:`Answer.segments` splits it into text and the citations its markers point to.
A citation id names a span of a report's clean text and a short hash of the span,
``<doc_id>:<start>-<end>:<hash8>`` (:func:`make_id`); :mod:`assistant.citations` parses
and resolves them.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MARKER_RE = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_MARKER_SEP_RE = re.compile(r"\s*[,;]\s*")


def marker_numbers(marker: re.Match[str]) -> list[int]:
    """The numbers of one marker matched by :data:`MARKER_RE` (``[1, 2]`` gives 1 and 2)."""
    return [int(n) for n in _MARKER_SEP_RE.split(marker.group(1))]


def strip_markers(text: str) -> str:
    """``text`` without its citation markers."""
    return MARKER_RE.sub("", text)


def span_hash(text: str) -> str:
    """Eight hex digits of the SHA-256 of a span's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def make_id(doc_id: str, start: int, end: int, text: str) -> str:
    """The stable citation id of ``text``, found at ``start:end`` of document ``doc_id``."""
    return f"{doc_id}:{start}-{end}:{span_hash(text)}"


DEFINITION_LEVEL = 7  # the level of a definition term (a top-level dl's dt), below h1–h6


@dataclass(frozen=True)
class Section:
    """A part of a report under a heading: ``text[start:end]`` begins with the heading.

    ``level`` is its depth: 1–6 for headings (HTML ``h1``–``h6``, Markdown ``#``–``######``,
    Word's "Heading 1"–"Heading 6"), 7 and deeper for the terms of definition lists (a
    function's signature, a glossary term), nested lists one deeper. ``heading`` is the
    heading's text.
    """

    start: int
    end: int
    level: int
    heading: str


@dataclass(frozen=True)
class Document:
    """A report: its clean text and the metadata the report states (``None`` where it does not).

    ``pages`` holds, for a report with pages (a PDF), the offset in ``text`` where each
    page starts, page 1 first (a page without text starts where the next text starts);
    it is empty for formats without pages. :func:`page_of` maps an offset to its page.
    ``sections`` are the parts of the text under a heading, in order of their start
    (nested ones inside the ones that hold them); :func:`heading_path` names those that
    hold an offset.
    """

    doc_id: str
    path: str
    text: str
    sha256: str
    title: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    date: str | None = None
    pages: tuple[int, ...] = ()
    sections: tuple[Section, ...] = ()

    def metadata(self) -> dict[str, Any]:
        """Metadata as a plain dict (no text)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "outlet": self.outlet,
            "authors": list(self.authors),
            "url": self.url,
            "date": self.date,
            "sha256": self.sha256,
            "chars": len(self.text),
            "pages": len(self.pages) or None,
        }


def page_of(document: Document, offset: int) -> int | None:
    """The page (1 for the first) on which ``offset`` of ``document.text`` lies.

    ``None`` for a report without pages and for an offset outside its text.
    """
    if not document.pages or not 0 <= offset <= len(document.text):
        return None
    return max(1, bisect.bisect_right(document.pages, offset))


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:(") + "…"


def definition_term(document: Document, offset: int) -> str | None:
    """The term (``dt``) whose definition holds ``offset``, innermost; ``None`` outside one."""
    term = None
    for section in document.sections:
        if section.start > offset:
            break
        if offset < section.end and section.level >= DEFINITION_LEVEL:
            term = section.heading
    return term


def heading_path(document: Document, offset: int,
                 max_chars: int | None = None) -> tuple[str, ...]:
    """What the text at ``offset`` is about: the title, then the headings of its sections.

    Outermost first (title › section › subsection › definition term), each heading
    below the title shortened to ``max_chars`` characters (``None``: whole). A heading
    that repeats the start of the one before it (a page's ``h1`` under the same title)
    is left out. Empty for a report with neither title nor sections.
    """
    path: list[str] = [document.title] if document.title else []
    for section in document.sections:
        if section.start > offset:
            break
        if offset < section.end:
            heading = section.heading
            if not path or not path[-1].casefold().startswith(heading.casefold()):
                path.append(heading if max_chars is None else _shorten(heading, max_chars))
    return tuple(path)


@dataclass(frozen=True)
class Chunk:
    """A passage: ``document.text[start:end] == text`` always holds.

    ``page`` is the page on which the passage starts, for a report with pages
    (:func:`page_of`); ``None`` for formats without pages. ``heading`` is the
    passage's heading path where it starts (:func:`heading_path`): context that is
    embedded with the passage and shown to the model, never part of its text or of
    what is quoted from it.
    """

    doc_id: str
    start: int
    end: int
    text: str
    tokens: int
    page: int | None = None
    heading: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Position key of the chunk within its document."""
        return f"{self.doc_id}:{self.start}-{self.end}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def doc_positions(chunks: Iterable[Chunk]) -> dict[str, list[int]]:
    """The positions of each document's chunks in ``chunks`` (an index's passages)."""
    out: dict[str, list[int]] = {}
    for pos, chunk in enumerate(chunks):
        out.setdefault(chunk.doc_id, []).append(pos)
    return out


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score (cosine, higher is closer)."""

    chunk: Chunk
    score: float
    rank: int

    @property
    def citation_id(self) -> str:
        """The citation id of the whole passage (what the UI and a refusal offer to look up)."""
        return make_id(self.chunk.doc_id, self.chunk.start, self.chunk.end, self.chunk.text)


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` marker of an answer, resolved to the text that supports it.

    ``start``/``end``/``quote`` are the supporting sentence(s) of the passage, found
    by the verifier (the whole passage when no sentence was singled out);
    ``passage_start``/``passage_end`` are the retrieved passage around them. All
    offsets are into the report's clean text.
    """

    n: int
    id: str
    doc_id: str
    title: str | None
    start: int
    end: int
    quote: str
    passage_start: int = -1
    passage_end: int = -1
    page: int | None = None  # the page the quote starts on, for a report with pages

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the shape of ``assistant ask --json``."""
        return asdict(self)


@dataclass(frozen=True)
class Segment:
    """A run of an answer's text: plain text, or one marker with the citations it points to.

    ``citations`` is empty for plain text and for a marker with a number that no
    citation of the answer has (such a marker is shown as the text it is).
    """

    text: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The final answer: text with ``[n]`` markers, the citations behind them, and timings."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    unsupported: tuple[str, ...] = ()
    trace: dict[str, str] = field(default_factory=dict)  # the model's raw reply and check
    other_reports: tuple[Citation, ...] = ()  # what reports the answer does not cite say
    closest: tuple[Hit, ...] = ()  # with a refusal: the retrieved passages it offers instead

    def segments(self) -> tuple[Segment, ...]:
        """The text in order as plain runs and markers, each marker with its citations."""
        by_number = {c.n: c for c in self.citations}
        out: list[Segment] = []
        last = 0
        for match in MARKER_RE.finditer(self.text):
            if match.start() > last:
                out.append(Segment(self.text[last : match.start()]))
            numbers = marker_numbers(match)
            cited = (tuple(by_number[n] for n in numbers)
                     if all(n in by_number for n in numbers) else ())
            out.append(Segment(match.group(0), cited))
            last = match.end()
        if last < len(self.text):
            out.append(Segment(self.text[last:]))
        return tuple(out)

    def to_text(self, reports: Mapping[str, Document]) -> str:
        """The answer as plain text: its ``[n]`` markers, then a numbered list of references.

        Each reference is the quoted sentence, the report's title, outlet, date, page (for
        a report with pages) and URL (those ``reports`` knows) and the citation id. What
        the UI's copy button gives.
        """
        refs = [f"[{c.n}] “{_flat(c.quote)}” — {_source(c, reports)}. Citation id: {c.id}"
                for c in self.references()]
        parts = [self.text.strip()]
        if refs:
            parts.append("References\n" + "\n".join(refs))
        return "\n\n".join(parts) + "\n"

    def to_markdown(self, reports: Mapping[str, Document]) -> str:
        """The answer as Markdown, each claim with a footnote for each of its citations.

        A footnote holds the quoted sentence, the report's title, outlet, date, page (for a
        report with pages) and URL and the citation id (``assistant ask --markdown``, the
        UI's "Copy as Markdown").
        """
        body = "".join("".join(f"[^{c.n}]" for c in part.citations) if part.citations
                       else _md(part.text) for part in self.segments())
        parts = [body.strip()]
        if self.other_reports:
            parts.append("Other reports on this question: " + "; ".join(
                f"{_md(_name(c, reports))}: “{_md(_flat(c.quote))}” [^{c.n}]"
                for c in self.other_reports))
        notes = []
        for c in self.references():
            doc = reports.get(c.doc_id)
            title = c.title or (doc.title if doc else None) or c.doc_id
            meta = [f"*{_md(title)}*"]
            if doc is not None:
                meta += [_md(m) for m in (doc.outlet, doc.date) if m]
            if c.page is not None:
                meta.append(f"p. {c.page}")
            if doc is not None and doc.url:
                meta.append(f"<{doc.url}>")
            notes.append(f"[^{c.n}]: “{_md(_flat(c.quote))}” — {', '.join(meta)}. "
                         f"Citation id: `{c.id.replace('`', '')}`")
        if notes:
            parts.append("\n".join(notes))
        return "\n\n".join(parts) + "\n"

    def references(self) -> tuple[Citation, ...]:
        """The citations and the other reports' quotes, once each, by number."""
        seen: dict[int, Citation] = {}
        for c in (*self.citations, *self.other_reports):
            seen.setdefault(c.n, c)
        return tuple(seen[n] for n in sorted(seen))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``assistant ask --json`` and returned by the UI's API."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "unsupported": list(self.unsupported),
            "other_reports": [c.to_dict() for c in self.other_reports],
        }


def _flat(text: str) -> str:
    """``text`` on one line."""
    return " ".join(text.split())


_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    """``text`` with the characters Markdown would read as markup escaped."""
    return _MD_SPECIAL_RE.sub(r"\\\1", text)


def _name(c: Citation, reports: Mapping[str, Document]) -> str:
    """What names a citation's report in a sentence: its outlet, else its title or id."""
    doc = reports.get(c.doc_id)
    return (doc.outlet if doc else None) or c.title or c.doc_id


def _source(c: Citation, reports: Mapping[str, Document]) -> str:
    """A citation's report for a reference line: title, outlet, date and URL."""
    doc = reports.get(c.doc_id)
    title = c.title or (doc.title if doc else None) or c.doc_id
    parts = [title]
    if doc is not None:
        parts += [m for m in (doc.outlet, doc.date) if m]
    if c.page is not None:
        parts.append(f"p. {c.page}")
    if doc is not None and doc.url:
        parts.append(doc.url)
    return ", ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A cited passage shown in its article: the span, and the text around it.

    ``heading`` is the heading path where the span starts (:func:`heading_path`: title ›
    section › definition term), to show what the passage is about; never part of ``text``.
    """

    citation_id: str
    doc_id: str
    title: str | None
    outlet: str | None
    authors: tuple[str, ...]
    date: str | None
    url: str | None
    start: int
    end: int
    text: str
    before: str
    after: str
    page: int | None = None  # the page the passage starts on, for a report with pages
    heading: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["heading"] = list(self.heading)
        return data


@dataclass(frozen=True)
class TextDelta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True)
class Status:
    """A progress event while answering: ``searching``, ``reading`` or ``writing``.

    The ``reading`` event carries the retrieved passages (``hits``), so they can be
    shown before the model starts writing.
    """

    stage: str
    detail: str = ""
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class BuildReport:
    """What a refresh of the index did."""

    status: str  # "up to date", "updated", "built", "rebuilt"
    documents: int
    chunks: int
    embedded_documents: tuple[str, ...]
    reused_documents: tuple[str, ...]
    removed_documents: tuple[str, ...]
    embedded_chunks: int
    seconds: float
    reason: str = ""


# Called while indexing with (what is being done, how many are done, how many in all).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReportFilter:
    """Which reports a question is about; every part given must hold (all of them: any report).

    ``reports`` are document ids; ``outlets`` are matched without regard to case;
    ``since`` and ``until`` are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and keep the
    reports whose date falls in that range, ends included (a report without a date is
    left out when a range is given).
    """

    reports: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    @property
    def everything(self) -> bool:
        """No restriction at all."""
        return not (self.reports or self.outlets or self.since or self.until)


INDEXED = "indexed"
SKIPPED = "skipped"
CHANGED = "changed since indexing"
NEW = "new since indexing"
GONE = "removed since indexing"


@dataclass(frozen=True)
class ReportState:
    """A report file of the corpus folder and where it stands.

    ``state`` is :data:`INDEXED`, :data:`SKIPPED` (``reason`` says why), :data:`CHANGED`
    (its file or sidecar changed after the index was refreshed), :data:`NEW` (a file
    added to the folder since) or :data:`GONE` (its file was deleted since).
    """

    doc_id: str
    file: str
    state: str
    reason: str = ""
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    pages: int | None = None
    passages: int = 0


@dataclass(frozen=True)
class UploadLimits:
    """What a report added through :meth:`assistant.Assistant.add_report` may be."""

    max_bytes: int
    suffixes: tuple[str, ...]  # the file types read, lower case with the dot
