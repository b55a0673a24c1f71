"""Load reports from the corpus folder: decode, clean, and read their metadata.

Supported: ``.txt`` (web-page remnants removed), ``.md`` (YAML front matter for
metadata), ``.html``/``.htm`` (main text and metadata via trafilatura), and
``.pdf`` and ``.docx`` (read by :mod:`assistant.ingest.formats`; a PDF keeps where
each page starts in the clean text, ``Document.pages``).
Any document may have a sidecar ``<stem>.meta.yaml`` whose fields override what
was read from the file. Metadata is what the report states; a field the report
does not state stays ``None``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import DocumentError
from assistant.ingest.formats import BINARY_SUFFIXES, Extracted, read_binary_report
from assistant.ingest.structure import Block, html_blocks, markdown_blocks
from assistant.records import Document, Section

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", *BINARY_SUFFIXES)
SUPPORTED_TYPES = ".txt, .md, .html, .pdf or .docx"  # for messages
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_MAX_FIELD_CHARS = 500
DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# Lines that are page furniture, not reporting. Matched against a whole stripped line.
_REMNANT_PATTERNS = [
    r"-+|[-–—•·|]+",
    r"\d{1,4}",
    r"advertisement|sponsored( content)?",
    r"select (voice|speed)",
    r"\d+(\.\d+)?x.*",
    r"reading time:?.*",
    r"\d+\s*min(ute)?s? read",
    r"why you can trust .*",
    r"read original.*",
    r"(related|more) (products|articles|stories).*",
    r"←.*|back to (articles|top|home)",
    r"follow .{1,60} on (google news|twitter|x|facebook|linkedin|instagram).*",
    r"(share|subscribe|sign up|log in|print)( (this|to|now|here).*)?",
    r"(listen|read) (to )?(this|the) (article|story).*",
]
_REMNANT_RE = re.compile(r"^(?:" + "|".join(_REMNANT_PATTERNS) + r")$", re.IGNORECASE)
_PHOTO_CREDIT_RE = re.compile(
    r"(?:^|\s)(?:photo|image|picture|credit)s?\s*:\s*[^.]{1,80}\.?$", re.IGNORECASE
)
_CONTROL_TOKEN_RE = re.compile(r"<\|([A-Za-z0-9_./:-]{1,40})\|>|<(/?)(s|unk|pad|eos|bos)>")
# C0/C1 controls, zero-width spaces, direction marks and overrides (they can hide or
# reorder text a reader sees), and stray byte-order marks. The zero-width (non-)joiners
# stay: Indic and Persian words and emoji sequences need them.
_CONTROL_CHARS_RE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029"
    r"\u202a-\u202e\u2066-\u2069\ufeff]")

_BYLINE_SEP_RE = re.compile(r",\s*|\s+and\s+|(?<=[a-z])and(?=[A-Z])")
_GLUED_ENTRY_RE = re.compile(
    r"^(?P<name>[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){1,3}?)\s?in "
    r"(?P<place>[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})$"
)
_PLAIN_BYLINE_RE = re.compile(r"^by\s+(?P<names>[A-Z][^.]{2,200})$", re.IGNORECASE)
_OUTLET_RES = [
    re.compile(r"^follow (?P<outlet>.{2,60}?) on (google news|twitter|x|facebook)", re.I),
    re.compile(r"^why you can trust (?P<outlet>.{2,60})$", re.I),
]


@dataclass(frozen=True)
class CleanResult:
    """Clean text plus what the cleaner learned about the report's metadata."""

    text: str
    title: str | None
    authors: tuple[str, ...]
    outlet: str | None


def neutralize(text: str) -> str:
    """Normalise newlines, drop control characters and defuse chat-template control tokens."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS_RE.sub("", text)
    text = _CONTROL_TOKEN_RE.sub(
        lambda m: f"<{m.group(1)}>" if m.group(1) else f"({m.group(2)}{m.group(3)})", text
    )
    # a stray "<|" could still meet "im_start|>" where passages are joined in a prompt
    return text.replace("<|", "< |")


def decode(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if not data.strip():
        raise DocumentError(f"{name} is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError(f"{name} is not valid UTF-16 text") from None
    if b"\x00" in data[:8192] and data.count(b"\x00") > len(data) // 100:
        raise DocumentError(f"{name} looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") > len(text) // 100:
        raise DocumentError(f"{name} is not readable text (unknown encoding)")
    return text


def repair_byline(line: str) -> tuple[str, tuple[str, ...]] | None:
    """Recognise a byline; return it in readable form with the author names.

    Handles plain bylines ("By A and B") and bylines whose spans were glued
    together when the page was scraped ("Ann Caoin Shanghai,Coco Fengin Guangdong").
    """
    plain = _PLAIN_BYLINE_RE.match(line)
    if plain:
        names = re.split(r",\s*|\s+and\s+", plain.group("names"))
        authors = tuple(n.strip() for n in names if n.strip())
        if authors and all(len(a.split()) <= 4 for a in authors):
            return line, authors
        return None
    entries = []
    for piece in _BYLINE_SEP_RE.split(line):
        match = _GLUED_ENTRY_RE.match(piece.strip())
        if match is None:
            return None
        entries.append((match.group("name"), match.group("place")))
    parts = [f"{name} in {place}" for name, place in entries]
    readable = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"By {readable}", tuple(name for name, _ in entries)


def _is_prose(line: str) -> bool:
    return len(line.split()) >= 8 and line.rstrip().endswith((".", "?", "!", "”", '"', "’"))


def clean_text(raw: str) -> CleanResult:
    """Remove web-page remnants from plain text and collect title, byline and outlet.

    Paragraphs come out separated by a blank line. Lines before the first
    prose paragraph that are navigation (three words or fewer) are dropped; the
    first longer line there is the title.
    """
    title: str | None = None
    authors: tuple[str, ...] = ()
    outlet: str | None = None
    paragraphs: list[str] = []
    in_preamble = True
    for raw_line in neutralize(raw).split("\n"):
        line = re.sub(r"[ \t\u00a0]+", " ", raw_line).strip()
        if not line:
            continue
        for outlet_re in _OUTLET_RES:
            found = outlet_re.match(line)
            if found and outlet is None:
                outlet = found.group("outlet").strip().rstrip(",.")
        if _REMNANT_RE.match(line) or _PHOTO_CREDIT_RE.search(line):
            continue
        if in_preamble:
            if _is_prose(line):
                in_preamble = False
            else:
                byline = repair_byline(line) if title is not None and not authors else None
                if byline is not None:
                    line, authors = byline
                elif len(line.split()) <= 3:
                    continue
                elif title is None:
                    title = line
        paragraphs.append(line)
    return CleanResult("\n\n".join(paragraphs), title, authors, outlet)


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end == -1:
        return {}, text
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError:
        raise DocumentError(f"{name}: the YAML front matter is not valid YAML") from None
    if not isinstance(meta, dict):
        raise DocumentError(f"{name}: the YAML front matter must be a mapping")
    body_start = text.find("\n", end + 4)
    return meta, text[body_start + 1 :] if body_start != -1 else ""


def assemble(blocks: Iterable[Block]) -> tuple[str, tuple[Section, ...]]:
    """The clean text of a report's blocks, and its sections.

    Each block is a paragraph: its lines neutralised and squashed (a table's rows and
    a code block's lines stay lines), paragraphs joined by a blank line. The text is
    final (neutralising it again changes nothing), so the sections' offsets are exact.
    A heading opens a section that ends where a heading of its level or higher starts,
    where a :attr:`Block.close` of its level or higher stands, or at the end.
    """
    parts: list[str] = []
    length = 0
    open_: list[tuple[int, int, str]] = []  # (start, level, heading) of open sections
    done: list[Section] = []

    def close(level: int) -> None:
        while open_ and open_[-1][1] >= level:
            start, at, heading = open_.pop()
            done.append(Section(start, length, at, heading))

    for block in blocks:
        if block.close:
            close(block.close)
            continue
        lines = [_one_line(line) for line in block.text.split("\n")]
        if len(lines) > 1:  # a table's rows, a code block's lines: keep their indentation
            raw = block.text.split("\n")
            lines = [raw_line[: len(raw_line) - len(raw_line.lstrip(" "))] + line if line else ""
                     for raw_line, line in zip(raw, lines, strict=True)]
        text = "\n".join(line for line in lines if line)
        if not text:
            continue
        if block.heading:
            close(block.heading)
        if parts:
            parts.append("\n\n")
            length += 2
        if block.heading:
            open_.append((length, block.heading, " ".join(text.split())))
        parts.append(text)
        length += len(text)
    close(0)
    return "".join(parts), tuple(sorted(done, key=lambda s: (s.start, s.level)))


def _markdown_text(body: str) -> tuple[str, tuple[Section, ...], str | None]:
    """The text and sections of a Markdown body, and its first top-level heading.

    Heading lines become paragraphs of their own, without their ``#`` marks; the
    title is the first heading of the highest level.
    """
    blocks = list(markdown_blocks(body))
    headings = [b for b in blocks if b.heading]
    title = min(headings, key=lambda b: b.heading).text if headings else None
    text, sections = assemble(blocks)
    return text, sections, title


_HTML_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _html_document(raw: str, name: str) -> tuple[str, tuple[Section, ...], dict[str, Any]]:
    import trafilatura  # heavy import kept inside the HTML adapter

    text, sections = assemble(html_blocks(raw, name))
    if not text.strip():
        raise DocumentError(f"{name}: no article text found in the HTML")
    found = trafilatura.extract_metadata(raw)
    meta: dict[str, Any] = {}
    if found is not None:
        title = found.title.replace("¶", " ").strip() if found.title else None  # a permalink
        meta = {"title": title, "outlet": found.sitename, "url": found.url,
                "date": found.date, "authors": found.author}
    if not _optional_str(meta.get("title")):  # the page's own <title>, when nothing better
        page_title = _HTML_TITLE_RE.search(raw)
        if page_title:
            meta["title"] = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page_title.group(1)))
                                     .split())
    return text, sections, meta


def _authors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = re.split(r";|,\s*|\s+and\s+", value)
    elif not isinstance(value, list | tuple):
        value = [value]
    names = (_optional_str(v) for v in value)
    return tuple(n for n in names if n)


def _usable(key: Any, value: Any) -> bool:
    """True when a sidecar's ``value`` for ``key`` is usable metadata (it then overrides)."""
    return bool(_authors(value) if key in ("authors", "author") else _optional_str(value))


def _optional_str(value: Any) -> str | None:
    """A metadata value as text; ``None`` for blanks and for anything but a plain scalar.

    Lists and mappings (possibly YAML alias bombs) are never turned into text.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        return None
    text = str(value).strip()
    return text[:_MAX_FIELD_CHARS] or None


def sidecar_path(path: Path) -> Path | None:
    """The sidecar metadata file of ``path``, if there is one."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def doc_id_for(path: Path) -> str:
    """The document id: the file stem, which must be a safe identifier."""
    if not DOC_ID_RE.match(path.stem):
        raise DocumentError(f"{path.name}: file name must be letters, digits, '.', '_' or '-'")
    return path.stem


def read_bounded(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of ``path``, refusing (without reading it) a file larger than ``limit``.

    The size is checked before reading and again while reading, so a file that
    grows in between cannot make the loader read more than ``limit + 1`` bytes.
    """
    name = path.name
    too_large = DocumentError(f"{name} is larger than {limit // 2**20} MB")
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                raise too_large
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DocumentError(f"{name} could not be read ({exc.strerror})") from None
    if len(data) > limit:
        raise too_large
    return data


def _one_line(paragraph: str) -> str:
    """``paragraph`` neutralised (until that changes nothing more), on one line."""
    for _ in range(8):
        cleaned = re.sub(r"\s+", " ", neutralize(paragraph)).strip()
        if cleaned == paragraph:
            break
        paragraph = cleaned
    return paragraph


def join_pages(extracted: Extracted) -> tuple[str, tuple[int, ...], tuple[Section, ...]]:
    """The clean text of an extracted report, where each page starts, and its sections.

    Paragraphs are neutralised one by one and joined by a blank line; a paragraph
    carried on from the page before is joined by a space. The text is final:
    neutralising it again changes nothing, so the page offsets stay exact. A page
    without text starts where the next text starts. A heading paragraph (a level in
    ``extracted.levels``) opens a section that ends where a heading of its level or
    higher starts, or at the end.
    """
    parts: list[str] = []
    length = 0
    starts: list[int | None] = []
    open_: list[tuple[int, int, str]] = []  # (start, level, heading) of open sections
    sections: list[Section] = []

    def close(level: int, at: int) -> None:
        while open_ and open_[-1][1] >= level:
            start, depth, heading = open_.pop()
            sections.append(Section(start, at, depth, heading))

    levels = extracted.levels or tuple((0,) * len(p) for p in extracted.pages)
    for paragraphs, continued, page_levels in zip(extracted.pages, extracted.continued, levels,
                                                  strict=True):
        cleaned = [(text, level) for text, level in zip(map(_one_line, paragraphs),
                                                        page_levels, strict=True) if text]
        if not cleaned:
            starts.append(None)
            continue
        for i, (paragraph, level) in enumerate(cleaned):
            joined = i == 0 and continued
            if level and not joined:
                close(level, length)
            if parts:
                sep = " " if joined else "\n\n"
                parts.append(sep)
                length += len(sep)
            if i == 0:
                starts.append(length)
            if level and not joined:
                open_.append((length, level, paragraph))
            parts.append(paragraph)
            length += len(paragraph)
    close(0, length)
    filled: list[int] = []
    following = length
    for start in reversed(starts):
        following = following if start is None else start
        filled.append(following)
    return ("".join(parts), tuple(reversed(filled)),
            tuple(sorted(sections, key=lambda s: (s.start, s.level))))


def text_sha256(text: str) -> str:
    """SHA-256 of a report's clean text: two files with the same text are duplicates."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_document(path: Path) -> Document:
    """Read one report, clean it and collect its metadata."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{name}: unsupported file type (use {SUPPORTED_TYPES})")
    data = read_bounded(path)
    meta: dict[str, Any] = {}
    pages: tuple[int, ...] = ()
    sections: tuple[Section, ...] = ()  # final offsets: their text is not changed again
    if suffix in BINARY_SUFFIXES:
        extracted = read_binary_report(data, name, suffix)
        text, page_starts, sections = join_pages(extracted)  # final: offsets are exact
        pages = page_starts if extracted.paged else ()
        meta = dict(extracted.meta)
    elif suffix in (".md", ".markdown"):
        raw = decode(data, name)
        meta, body = _split_front_matter(neutralize(raw), name)
        text, sections, heading = _markdown_text(body)
        if not _optional_str(meta.get("title")):
            meta["title"] = heading
    elif suffix in (".html", ".htm"):
        text, sections, meta = _html_document(neutralize(decode(data, name)), name)
    else:
        cleaned = clean_text(decode(data, name))
        text = cleaned.text
        meta = {"title": cleaned.title, "authors": list(cleaned.authors),
                "outlet": cleaned.outlet}
    sidecar = sidecar_path(path)
    if sidecar is not None:
        try:
            extra = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            raise DocumentError(f"{sidecar.name}: the metadata file is not valid YAML") from None
        if not isinstance(extra, dict):
            raise DocumentError(f"{sidecar.name}: the metadata file must be a mapping")
        meta.update({k: v for k, v in extra.items() if _usable(k, v)})
    if not sections and suffix not in BINARY_SUFFIXES:
        text = neutralize(text).strip()
    if not text:
        raise DocumentError(f"{name} has no text left after cleaning")
    fields: dict[str, Any] = {
        "title": _optional_str(meta.get("title")),
        "outlet": _optional_str(meta.get("outlet")),
        "authors": _authors(meta.get("authors") or meta.get("author")),
        "url": _optional_str(meta.get("url")),
        "date": _optional_str(meta.get("date")),
    }
    digest = hashlib.sha256()
    digest.update(text.encode("utf-8"))
    digest.update(b"\0" + json.dumps(fields, sort_keys=True, default=list).encode("utf-8"))
    if pages:
        digest.update(b"\0pages" + json.dumps(pages).encode("utf-8"))
    if sections:
        held = [dataclasses.astuple(s) for s in sections]
        digest.update(b"\0sections" + json.dumps(held, ensure_ascii=False).encode("utf-8"))
    return Document(doc_id=doc_id_for(path), path=str(path), text=text,
                    sha256=digest.hexdigest(), pages=pages, sections=sections, **fields)


def corpus_files(corpus_dir: Path) -> Iterator[Path]:
    """Document files of the corpus folder, sorted by name (sidecars and hidden files skipped)."""
    for path, reason in corpus_entries(corpus_dir):
        if reason is None:
            yield path


def corpus_entries(corpus_dir: Path) -> Iterator[tuple[Path, str | None]]:
    """Every entry of the corpus folder, sorted by name, with why it is not a document.

    The reason is ``None`` for a file to load. Hidden entries (a leading ``.``,
    such as upload staging folders) are left out silently; sidecars that belong to
    a report are not listed; anything else that is not a report gets a reason.
    """
    if not corpus_dir.is_dir():
        raise DocumentError(f"the corpus folder {corpus_dir.name!r} does not exist")
    entries = sorted(corpus_dir.iterdir())
    report_stems = {p.stem for p in entries
                    if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file()}
    for path in entries:
        if path.name.startswith("."):
            continue
        sidecar = next((s for s in SIDECAR_SUFFIXES if path.name.endswith(s)), None)
        if sidecar is not None:
            if path.name[: -len(sidecar)] not in report_stems:
                yield path, "metadata file without a report of the same name"
            continue
        if path.is_dir():
            yield path, "a folder (sub-folders are not read)"
        elif not path.is_file():
            yield path, "not a regular file"
        else:
            yield path, None


@dataclass(frozen=True)
class LoadReport:
    """The outcome of loading a corpus: documents, and files skipped with their reason."""

    documents: tuple[Document, ...]
    skipped: tuple[tuple[str, str], ...]
    # (file name, modification time in ns, size) of every file of the folder when read
    stamps: tuple[tuple[str, int, int], ...] = ()


def supported_files(corpus_dir: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files of ``corpus_dir`` that may be reports, and the other entries with why not."""
    paths: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path, reason in corpus_entries(corpus_dir):
        if reason is not None:
            skipped.append((path.name, reason))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((path.name, "unsupported file type"))
        else:
            paths.append(path)
    return paths, skipped


def distinct_reports(found: Sequence[tuple[str, str, str, int]]
                     ) -> tuple[list[int], list[tuple[str, str]]]:
    """Which loaded files become reports: positions in ``found``, and the others with why.

    ``found`` holds (file name, document id, SHA-256 of the clean text, modification
    time in ns) in folder order. A later file with an id already seen is skipped; of
    files with the same clean text the older one (by modification time, then name)
    is kept and the others are skipped with a reason naming it.
    """
    skipped: list[tuple[str, str]] = []
    seen_ids: dict[str, str] = {}
    loaded: list[int] = []
    for i, (name, doc_id, _, _) in enumerate(found):
        if doc_id in seen_ids:
            skipped.append((name, f"same document id as {seen_ids[doc_id]}"))
            continue
        seen_ids[doc_id] = name
        loaded.append(i)
    originals: dict[str, str] = {}
    duplicates: set[int] = set()
    for i in sorted(loaded, key=lambda i: (found[i][3], found[i][0])):
        name, _, digest, _ = found[i]
        if digest in originals:
            reason = f"duplicate of {originals[digest]} (same text); not indexed twice"
            logger.warning("skipped %s: %s", name, reason)
            skipped.append((name, reason))
            duplicates.add(i)
        else:
            originals[digest] = name
    return [i for i in loaded if i not in duplicates], skipped


def load_corpus(corpus_dir: Path) -> LoadReport:
    """Load every supported document; a bad file is skipped with its reason, never fatal.

    Every entry of the folder ends up either in ``documents`` or in ``skipped``
    (hidden entries and the sidecars of loaded reports aside). Duplicates (same id,
    or same clean text) are resolved by :func:`distinct_reports`.
    """
    stamps = folder_stamps(corpus_dir)
    paths, skipped = supported_files(corpus_dir)
    loaded: list[tuple[Path, Document]] = []
    for path in paths:
        try:
            loaded.append((path, load_document(path)))
        except DocumentError as exc:
            logger.warning("skipped %s: %s", path.name, exc)
            skipped.append((path.name, str(exc)))
    keep, dropped = distinct_reports([(path.name, doc.doc_id, text_sha256(doc.text),
                                       _mtime(path)) for path, doc in loaded])
    skipped.extend(dropped)
    skipped.sort()
    return LoadReport(tuple(loaded[i][1] for i in keep), tuple(skipped), stamps)


def folder_stamps(corpus_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, modification time in ns, size) of each visible file of ``corpus_dir``, by name.

    Taken before the files are read, so a file changed while they are read counts as
    changed since.
    """
    out: list[tuple[str, int, int]] = []
    try:
        entries = list(Path(corpus_dir).iterdir())
    except OSError:
        return ()
    for path in entries:
        if path.name.startswith("."):
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        if path.is_file():
            out.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(sorted(out))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
