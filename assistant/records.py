"""Typed records that flow through the pipeline.

Document → Chunk (a span of the document's clean text) → Hit (a scored chunk)
→ Citation (a marker of the answer mapped to a passage) → Answer.
All are frozen: a stage never edits what an earlier stage produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A report: its clean text and the metadata the report states (``None`` where it does not)."""

    doc_id: str
    path: str
    text: str
    sha256: str
    title: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    date: str | None = None

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
        }


@dataclass(frozen=True)
class Chunk:
    """A passage: ``document.text[start:end] == text`` always holds."""

    doc_id: str
    start: int
    end: int
    text: str
    tokens: int

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the shape of ``assistant ask --json``."""
        return asdict(self)


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``assistant ask --json`` and returned by the UI's API."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "unsupported": list(self.unsupported),
            "other_reports": [c.to_dict() for c in self.other_reports],
        }


@dataclass(frozen=True)
class Passage:
    """A cited passage shown in its article: the span, and the text around it."""

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["authors"] = list(self.authors)
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
