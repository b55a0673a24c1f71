"""The structure of HTML and Markdown reports: headings, definition lists, tables and code.

Extraction gives a sequence of :class:`Block` (a paragraph, a heading, or the end of a
definition's scope); :func:`assistant.ingest.documents.assemble` joins them into the
clean text and its :class:`~assistant.records.Section` spans, so each passage can carry
the headings it sits under (issue 19: a passage of documentation whose text does not
name the function it describes).

HTML: the main content is the page's ``<main>`` (or ``role="main"``) element, read
here; a page without one is left to trafilatura's main-text extraction (news pages:
boilerplate removed), whose XML keeps the same structure. What survives:

- headings ``h1``–``h6`` (levels 1–6), without Sphinx's "¶" permalinks;
- definition lists: each term (``dt``; a Python signature such as
  ``shutil.copytree(src, dst, ...)`` in Sphinx pages) is a heading of level 7 (a
  nested list's 8, and so on) whose scope ends with its definition;
- tables: one line a row, cells joined by ``" | "``, the caption first;
- code blocks (``pre``): their lines, as one paragraph;
- list items and figure captions: a paragraph each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.errors import DocumentError
from assistant.records import DEFINITION_LEVEL

_SKIPPED = frozenset("script style noscript template nav aside form button svg iframe select "
                     "input textarea head title meta link object canvas".split())
_SKIPPED_ROLES = frozenset("navigation search complementary banner contentinfo".split())
_BLOCKS = frozenset("p div section article header footer main blockquote figure figcaption "
                    "address details summary center hr ul ol li dl dt dd table pre h1 h2 h3 "
                    "h4 h5 h6".split())
_PERMALINK = "¶"
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One unit of a report's structure, in reading order.

    A paragraph (``text``; a table's rows and a code block's lines on lines of their
    own), a heading (``text`` and its ``heading`` level), or, with ``close`` set and no
    text, the end of the sections of that level and deeper (a definition's scope ends).
    """

    text: str = ""
    heading: int = 0
    close: int = 0


def _squash(text: str) -> str:
    return " ".join(text.split())


def _heading_text(text: str) -> str:
    return _squash(text.replace(_PERMALINK, " "))


def _skipped(element: Any) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    return (tag.lower() in _SKIPPED or element.get("role") in _SKIPPED_ROLES
            or element.get("hidden") is not None or element.get("aria-hidden") == "true"
            or "headerlink" in (element.get("class") or "").split())


class _Walker:
    """Reads an HTML element tree into blocks (one walker a document)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        text = _squash("".join(self._inline))
        self._inline = []
        if text:
            self.blocks.append(Block(text))

    def text_of(self, element: Any) -> str:
        """The text of ``element`` and its children, without skipped parts."""
        parts: list[str] = [element.text or ""]
        for child in element:
            if isinstance(child.tag, str) and not _skipped(child):
                parts.append(" " if child.tag.lower() == "br" else self.text_of(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def children(self, element: Any, depth: int) -> None:
        """Walk the content of ``element``: its text, its children and their tails."""
        self._inline.append(element.text or "")
        for child in element:
            if isinstance(child.tag, str) and not _skipped(child):
                self.element(child, depth)
            self._inline.append(child.tail or "")

    def element(self, element: Any, depth: int) -> None:
        tag = element.tag.lower()
        if tag == "br":
            self._inline.append(" ")
            return
        if tag not in _BLOCKS:
            self.children(element, depth)
            return
        self.flush()
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            text = _heading_text(self.text_of(element))
            if text:
                self.blocks.append(Block(text, heading=int(tag[1])))
        elif tag == "dl":
            self.definitions(element, depth + 1)
        elif tag == "table":
            self.table(element)
        elif tag == "pre":
            lines = [line.rstrip() for line in self.text_of(element).splitlines()]
            code = "\n".join(line for line in lines if line.strip())
            if code:
                self.blocks.append(Block(code))
        else:
            self.children(element, depth)
        self.flush()

    def definitions(self, element: Any, depth: int) -> None:
        """A definition list: each term a heading, its definition in its scope."""
        level = DEFINITION_LEVEL + depth - 1
        for child in element:
            if not isinstance(child.tag, str) or _skipped(child):
                continue
            tag = child.tag.lower()
            if tag == "dt":
                text = _heading_text(self.text_of(child))
                if text:
                    self.blocks.append(Block(text, heading=level))
            elif tag == "dd":
                self.children(child, depth)
                self.flush()
                self.blocks.append(Block(close=level))
            else:
                self.element(child, depth)

    def table(self, element: Any) -> None:
        """A table: its caption, then one line a row with cells joined by " | "."""
        lines: list[str] = []
        for part in element.iter():
            if not isinstance(part.tag, str) or _skipped(part):
                continue
            tag = part.tag.lower()
            if tag == "caption":
                caption = _squash(self.text_of(part))
                if caption:
                    lines.append(caption)
            elif tag == "tr":
                cells = [_squash(self.text_of(cell)) for cell in part
                         if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th")]
                if any(cells):
                    lines.append(" | ".join(cells))
        if lines:
            self.blocks.append(Block("\n".join(lines)))


def _blocks_of(root: Any) -> list[Block]:
    walker = _Walker()
    walker.children(root, 0)
    walker.flush()
    return walker.blocks


# trafilatura's XML vocabulary, as the HTML tags the walker reads
_XML_TAGS = {"p": "p", "quote": "blockquote", "lb": "br", "row": "tr", "table": "table"}


def _as_html(element: Any) -> None:
    """Rename trafilatura's XML elements in place to the HTML elements they stand for."""
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        tag, rend = node.tag, node.get("rend") or ""
        if tag == "head":
            node.tag = rend if re.fullmatch(r"h[1-6]", rend) else "h2"
        elif tag == "list":
            node.tag = "dl" if rend == "dl" else "ul"
        elif tag == "item":
            node.tag = rend[:2] if rend[:2] in ("dt", "dd") else "li"
        elif tag == "cell":
            node.tag = "th" if node.get("role") == "head" else "td"
        elif tag == "code":
            node.tag = "pre" if "\n" in (node.text or "") else "code"
        elif tag in _XML_TAGS:
            node.tag = _XML_TAGS[tag]
        elif tag in ("graphic", "comments"):
            node.tag = "script"  # skipped
        elif tag not in ("doc", "main"):
            node.tag = "span"


def html_blocks(raw: str, name: str) -> list[Block]:
    """The blocks of an HTML page's main content (see the module's description)."""
    import lxml.etree
    import lxml.html

    source = _XML_DECLARATION_RE.sub("", raw, count=1)
    try:
        page = lxml.html.document_fromstring(source) if source.strip() else None
    except (lxml.etree.ParserError, ValueError):
        page = None
    if page is not None:
        mains = page.xpath("//main | //*[@role='main']")
        if mains:
            blocks = _blocks_of(mains[0])
            if blocks:
                return blocks
    import trafilatura  # heavy import kept inside the HTML adapter

    extracted = trafilatura.extract(raw, output_format="xml", include_comments=False,
                                    include_tables=True, favor_precision=True)
    if not extracted:
        raise DocumentError(f"{name}: no article text found in the HTML")
    try:
        tree = lxml.etree.fromstring(extracted.encode("utf-8"))
    except lxml.etree.XMLSyntaxError:
        raise DocumentError(f"{name}: no article text found in the HTML") from None
    _as_html(tree)
    return _blocks_of(tree)


_MD_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")


def markdown_blocks(body: str) -> Iterator[Block]:
    """The blocks of a Markdown body: ``#`` headings, paragraphs, tables and code.

    A paragraph's lines are joined by spaces, except a table's (every line starts with
    ``|``), whose rows stay lines, and a fenced code block's, kept as they are.
    """
    paragraph: list[str] = []
    fence: list[str] | None = None

    def ended() -> Iterator[Block]:
        lines = [line.strip() for line in paragraph if line.strip()]
        paragraph.clear()
        if lines and all(line.startswith("|") for line in lines):
            yield Block("\n".join(lines))
        elif lines:
            yield Block(" ".join(lines))

    for line in body.split("\n"):
        if fence is not None:
            if _MD_FENCE_RE.match(line):
                code = "\n".join(c.rstrip() for c in fence if c.strip())
                if code:
                    yield Block(code)
                fence = None
            else:
                fence.append(line)
            continue
        if _MD_FENCE_RE.match(line):
            yield from ended()
            fence = []
            continue
        found = _MD_HEADING_RE.match(line)
        if found and found.group(2).strip():
            yield from ended()
            yield Block(found.group(2).strip(), heading=len(found.group(1)))
        elif not line.strip():
            yield from ended()
        else:
            paragraph.append(line)
    if fence is not None:
        paragraph.extend(fence)
    yield from ended()
