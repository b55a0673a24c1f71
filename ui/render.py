"""HTML and table views of the assistant's records, for the web UI (no Gradio here).

Everything that comes from a report or from the model is escaped before it is
put into HTML; the only markup added is the UI's own (citation links, the
highlighted passage, status lines).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assistant.records import (
    CHANGED,
    GONE,
    INDEXED,
    SKIPPED,
    BuildReport,
    Citation,
    Hit,
    Passage,
    ReportState,
    Segment,
    strip_markers,
)

_STATUS_RE = re.compile(r'<span class="status[^"]*">.*?</span>', re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_QUOTE_CHARS = 140


def escape(text: str) -> str:
    """Escape ``text`` for HTML, and the characters Gradio's HTML templates treat specially."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def escape_md(text: str) -> str:
    """Escape ``text`` for a chat message: no HTML, no Markdown links, no LaTeX; lists stay."""
    return (escape(text).replace("[", "&#91;").replace("]", "&#93;")
            .replace("\\", "&#92;"))


def cite_link(n: int, citation_id: str) -> str:
    """Render an ``[n]`` marker as a link that the passage panel reacts to."""
    return (f'<a class="cite" href="#cite-{n}" title="{html.escape(citation_id, quote=True)}">'
            f"&#91;{n}&#93;</a>")


def link_markers(segments: Sequence[Segment]) -> str:
    """Render an answer (:meth:`Answer.segments`) as HTML, each cited marker as links."""
    return "".join("".join(cite_link(c.n, c.id) for c in part.citations) if part.citations
                   else escape_md(part.text) for part in segments)


def other_reports_html(others: Sequence[Citation],
                       outlets: Mapping[str, str | None] | None = None) -> str:
    """The line under an answer quoting what the reports it does not cite say (may be empty).

    Each report is named by its outlet when ``outlets`` knows it, else by its title.
    """
    if not others:
        return ""
    names = outlets or {}
    items = "; ".join(f"{escape_md(names.get(c.doc_id) or c.title or c.doc_id)}: "
                      f"“{escape_md(short(c.quote))}” {cite_link(c.n, c.id)}" for c in others)
    return f'\n\n<span class="other-reports">Other reports on this question: {items}</span>'


def status_html(stage: str, detail: str) -> str:
    """Render a progress line such as "searching the reports…" (``stage`` names its class)."""
    return f'<span class="status status-{escape(stage)}">{escape(detail)}…</span>'


def draft_html(text: str) -> str:
    """A reply still being written, shown plainly as a draft (it may yet be changed)."""
    return (f'<span class="status status-draft">draft, being checked against the '
            f'reports…</span>\n\n<span class="draft">{escape_md(text)}</span>')


def message_html(kind: str, text: str) -> str:
    """Render a short notice; ``kind`` is ``error``, ``stopped`` or ``info``."""
    label = {"error": "Error: ", "stopped": "", "info": ""}.get(kind, "")
    return f'<span class="notice notice-{escape(kind)}">{label}{escape(text)}</span>'


def plain_text(content: Any) -> str:
    """Text of a chat message as the model should see it: no markup, no old markers."""
    if isinstance(content, list):
        content = " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b)
                           for b in content)
    text = _STATUS_RE.sub("", str(content or ""))
    text = re.sub(r'<span class="(?:notice|other-reports)[^"]*">.*?</span>', "", text,
                  flags=re.DOTALL)
    text = html.unescape(_TAG_RE.sub("", text))
    text = strip_markers(text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", " ".join(text.split())).strip()


def plain_history(chat: Iterable[Any] | None) -> list[dict[str, str]]:
    """Earlier turns of the chat as plain ``{"role", "content"}`` dicts.

    Status lines, notices and citation links are removed; turns left empty are dropped.
    """
    turns: list[dict[str, str]] = []
    for item in chat or ():
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            continue
        text = plain_text(item.get("content"))
        if text:
            turns.append({"role": str(item["role"]), "content": text})
    return turns


def short(text: str, limit: int = _QUOTE_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to about ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def on_page(name: str, page: int | None) -> str:
    """A report's name, with the page when the passage is in a report with pages."""
    return name if page is None else f"{name}, p. {page}"


def source_samples(citations: Sequence[Citation]) -> list[list[str]]:
    """Rows of the sources table: marker, report title (or id) with the page, the quote's start."""
    return [[f"[{c.n}]", on_page(c.title or c.doc_id, c.page), short(c.quote)]
            for c in citations]


def hit_samples(hits: Sequence[Hit], titles: Mapping[str, str | None]) -> list[list[str]]:
    """Rows of the sources table for retrieved passages not (yet) cited: "#1", "#2"…, best first.

    A click on one opens the passage at its sentence closest to the question.
    """
    return [[f"#{i}", on_page(titles.get(h.chunk.doc_id) or h.chunk.doc_id, h.chunk.page),
             short(h.chunk.text)] for i, h in enumerate(hits, start=1)]


def left_out_html(sentences: Sequence[str]) -> str:
    """The sentences of the reply that no passage supports, as a list that opens on a click."""
    if not sentences:
        return ""
    n = len(sentences)
    items = "".join(f"<li>{escape(s)}</li>" for s in sentences)
    return (f'<details class="left-out"><summary>{n} sentence{"s" if n != 1 else ""} no '
            f"passage supports {'were' if n != 1 else 'was'} left out (show)</summary>"
            f"<ul>{items}</ul></details>")


def copy_tools_html(text: str, markdown: str) -> str:
    """The buttons that copy the latest answer: plain text with numbered references, Markdown."""
    return ('<div class="answer-tools">'
            '<button type="button" class="copy-btn" data-kind="text">Copy answer</button>'
            '<button type="button" class="copy-btn" data-kind="markdown">Copy as Markdown'
            '</button><span class="copy-done" aria-live="polite"></span>'
            f'<textarea class="copy-src" data-kind="text" hidden>{escape(text)}</textarea>'
            f'<textarea class="copy-src" data-kind="markdown" hidden>{escape(markdown)}'
            "</textarea></div>")


def model_html(status: str, kind: str = "model", busy: bool = False) -> str:
    """The model's state in the chat tab ("loading the model (12 s)…", "ready: …")."""
    return (f'<span class="model-state model-{escape(kind)}">Model: {escape(status)}'
            f"{'…' if busy else ''}</span>")


def hit_ids(hits: Sequence[Hit]) -> list[str]:
    """Citation ids of retrieved passages (the whole passage), for the sources table."""
    return [h.citation_id for h in hits]


def _meta_line(passage: Passage) -> str:
    parts = []
    if passage.outlet:
        parts.append(f'<span class="outlet">{escape(passage.outlet)}</span>')
    if passage.date:
        parts.append(f'<span class="date">{escape(passage.date)}</span>')
    if passage.authors:
        parts.append(f'<span class="authors">by {escape(", ".join(passage.authors))}</span>')
    if passage.page is not None:
        parts.append(f'<span class="page">page {passage.page}</span>')
    line = " · ".join(parts)
    if passage.url and re.match(r"^https?://", passage.url, re.IGNORECASE):
        href = html.escape(passage.url, quote=True)
        link = (f'<a class="url" href="{href}" target="_blank" rel="noopener noreferrer">'
                f"{escape(passage.url)}</a>")
        line = f'{line}<div class="passage-url">{link}</div>'
    return line


def heading_path_html(passage: Passage) -> str:
    """The headings the passage sits under, "Title › Section › term" (empty for just the title).

    A report without sections (a news report) has only its title there, which the
    panel already shows as its heading.
    """
    if not passage.heading or passage.heading == (passage.title,):
        return ""
    path = " › ".join(escape(h) for h in passage.heading)
    return f'<div class="passage-path" title="where the passage stands">{path}</div>'


def passage_html(passage: Passage, full_text: str | None = None) -> str:
    """Render the cited passage highlighted inside the text of its article, under its metadata.

    ``full_text`` is the report's whole clean text; without it only the text
    around the passage (``passage.before`` and ``passage.after``) is shown.
    """
    if full_text is not None and full_text[passage.start : passage.end] == passage.text:
        before, after = full_text[: passage.start], full_text[passage.end :]
        lead, tail = "", ""
    else:
        before, after = passage.before, passage.after
        lead = "… " if passage.start > len(passage.before) else ""
        tail = " …"
    title = escape(passage.title or passage.doc_id)
    meta = _meta_line(passage)
    path = heading_path_html(passage)
    return (
        '<article class="passage-view"><header class="passage-head">'
        f'<h3 class="passage-title">{title}</h3>'
        + (f'<div class="passage-meta">{meta}</div>' if meta else "")
        + path
        + f'<div class="passage-id">citation <code>{escape(passage.citation_id)}</code> '
        f'<button type="button" class="copy-id" title="copy the citation id" '
        f'data-id="{escape(passage.citation_id)}">Copy id</button></div>'
        f'</header><div class="passage-text">{lead}{escape(before)}'
        f'<mark id="cited-passage">{escape(passage.text)}</mark>{escape(after)}{tail}</div>'
        "</article>"
    )


def placeholder_html(text: str) -> str:
    """Render the passage panel before anything is selected, or with a short message."""
    return f'<div class="passage-empty">{escape(text)}</div>'


def report_rows(states: Sequence[ReportState]) -> list[list[Any]]:
    """Rows of the reports table: id, state (and why), title, outlet, date, pages, passages."""
    return [[s.doc_id, f"{s.state}: {s.reason}" if s.reason else s.state, s.title or "",
             s.outlet or "", s.date or "", s.pages or "", s.passages] for s in states]


REPORT_HEADERS = ["id", "state", "title", "outlet", "date", "pages", "passages"]


def report_choices(states: Sequence[ReportState]) -> list[tuple[str, str]]:
    """(label, document id) of the indexed reports, to choose what a question is about."""
    return [(f"{s.title} ({s.doc_id})" if s.title else s.doc_id, s.doc_id)
            for s in states if s.state != SKIPPED and s.passages]


def outlet_choices(states: Sequence[ReportState]) -> list[str]:
    """The outlets of the indexed reports, sorted."""
    return sorted({s.outlet for s in states if s.outlet and s.passages})


def removable_choices(states: Sequence[ReportState]) -> list[tuple[str, str]]:
    """(label, name to remove) of every file the corpus folder lists."""
    return [(f"{s.file} ({s.state})", s.doc_id if s.state in (INDEXED, CHANGED) else s.file)
            for s in states if s.state != GONE]


def index_status_md(report: BuildReport | None, documents: int,
                    skipped: Sequence[tuple[str, str]]) -> str:
    """Markdown summary of the index and of files that were not loaded."""
    if report is None:
        line = f"**Index:** {documents} reports."
    else:
        line = (f"**Index {report.status}:** {report.documents} reports, "
                f"{report.chunks} passages (last refresh {report.seconds:.1f} s).")
        if report.reason:
            line += f" Reason: {report.reason}."
    lines = [line]
    if skipped:
        lines.append("")
        lines.append("**Files not loaded:**")
        lines.extend(f"- `{_md_code(name)}`: {_md_text(why)}" for name, why in skipped)
    return "\n".join(lines)


def _md_code(text: str) -> str:
    return text.replace("`", "'")


def _md_text(text: str) -> str:
    return html.escape(re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text))
