"""Structure survives ingestion (issue 19): heading paths, definition lists, tables, code.

A passage carries its heading path (title › section › definition term) as context:
embedded and shown to the model, never part of its text, its offsets or its quotes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answer.claims import Evidence
from assistant.answer.draft import build_messages, passage_context
from assistant.core import Assistant
from assistant.index.refresh_plan import embedding_text
from assistant.ingest.chunking import chunk_document, count_tokens
from assistant.ingest.documents import assemble, load_document
from assistant.ingest.structure import Block, markdown_blocks
from assistant.records import Chunk, Document, Hit, Section, heading_path, make_id
from assistant.settings import ChunkerSettings, Settings
from conftest import FakeEmbedder, ScriptedGenerator

COPYTREE_BODY = ("Recursively copy an entire directory tree rooted at src to a directory "
                 "named dst and return the destination directory. All intermediate "
                 "directories needed to contain dst will also be created by default.")
SIGNATURE = "shutil.copytree(src, dst, symlinks=False, ignore=None)"

SPHINX_PAGE = f"""<!DOCTYPE html>
<html><head><title>shutil — High-level file operations — Python 3.11 documentation</title>
</head><body>
<div class="related" role="navigation"><ul><li><a href="index.html">index</a></li></ul></div>
<div class="body" role="main">
<section id="module-shutil">
<h1>shutil — High-level file operations<a class="headerlink" href="#x">¶</a></h1>
<p>The shutil module offers a number of high-level operations on files.</p>
<section id="directory-and-files-operations">
<h2>Directory and files operations<a class="headerlink" href="#y">¶</a></h2>
<dl class="py function">
<dt class="sig sig-object py" id="shutil.copytree">
<span class="sig-prename descclassname"><span class="pre">shutil.</span></span><span
 class="sig-name descname"><span class="pre">copytree</span></span><span
 class="sig-paren">(</span><em class="sig-param">src</em>, <em class="sig-param">dst</em>,
 <em class="sig-param">symlinks=False</em>, <em class="sig-param">ignore=None</em><span
 class="sig-paren">)</span><a class="headerlink" href="#shutil.copytree">¶</a></dt>
<dd><p>{COPYTREE_BODY}</p>
<table class="docutils"><thead><tr><th><p>Argument</p></th><th><p>Meaning</p></th></tr>
</thead><tbody><tr><td><p>symlinks</p></td><td><p>copy links as links</p></td></tr>
</tbody></table>
<div class="highlight"><pre>copytree(source, destination,
         ignore=ignore_patterns('*.pyc'))
</pre></div>
</dd></dl>
<dl class="py class"><dt id="shutil.Archiver">class shutil.Archiver</dt>
<dd><p>An archiver.</p>
<dl class="py method"><dt id="shutil.Archiver.pack">pack(name)</dt>
<dd><p>Pack the files into one archive and return its name.</p></dd></dl>
<p>Archivers are cheap to make.</p>
</dd></dl>
<p>The functions above follow symbolic links.</p>
</section></section></div>
<div class="footer" role="contentinfo">Copyright 2001 Python Software Foundation.</div>
</body></html>
"""

MAX = ChunkerSettings().heading_chars


def _path_at(doc: Document, needle: str) -> tuple[str, ...]:
    return heading_path(doc, doc.text.index(needle), MAX)


def _sections_start_with_their_heading(doc: Document) -> None:
    for s in doc.sections:
        assert doc.text[s.start:s.end].startswith(s.heading)
        assert 0 <= s.start < s.end <= len(doc.text)


# --- HTML ----------------------------------------------------------------------------


def test_sphinx_page_keeps_signatures_tables_and_code(tmp_path: Path) -> None:
    path = tmp_path / "shutil.html"
    path.write_text(SPHINX_PAGE, encoding="utf-8")
    doc = load_document(path)
    paragraphs = doc.text.split("\n\n")
    assert SIGNATURE in paragraphs  # the signature survives, without its "¶"
    assert "¶" not in doc.text
    assert "Argument | Meaning\nsymlinks | copy links as links" in paragraphs  # rows as lines
    assert ("copytree(source, destination,\n         ignore=ignore_patterns('*.pyc'))"
            in paragraphs)  # a code block keeps its lines
    assert "index" not in paragraphs and "Copyright" not in doc.text  # navigation, footer
    _sections_start_with_their_heading(doc)


def test_html_heading_path_of_a_definition(tmp_path: Path) -> None:
    path = tmp_path / "shutil.html"
    path.write_text(SPHINX_PAGE, encoding="utf-8")
    doc = load_document(path)
    title = doc.title
    assert title is not None and title.startswith("shutil — High-level file operations")
    # the page's h1 repeats the title's start: not named twice
    assert _path_at(doc, "Recursively copy") == (title, "Directory and files operations",
                                                 SIGNATURE)
    assert _path_at(doc, "Argument | Meaning") == _path_at(doc, "Recursively copy")
    # a nested definition list: the method under its class
    assert _path_at(doc, "Pack the files") == (title, "Directory and files operations",
                                               "class shutil.Archiver", "pack(name)")
    # a definition's scope ends with it: the class's last paragraph, then the section's
    assert _path_at(doc, "Archivers are cheap") == (title, "Directory and files operations",
                                                    "class shutil.Archiver")
    assert _path_at(doc, "The functions above") == (title, "Directory and files operations")
    assert _path_at(doc, "The shutil module offers") == (title,)


def test_html_without_main_element_keeps_its_headings(tmp_path: Path) -> None:
    body = " ".join(["The regulator met the companies on Wednesday to discuss chip demand."] * 4)
    later = " ".join(["Analysts expect the approvals to arrive before the end of the year."] * 4)
    path = tmp_path / "news.html"
    path.write_text(f"<html><head><title>Chip talks</title></head><body><nav>Home | News</nav>"
                    f"<article><h1>Chip talks</h1><p>{body}</p><h2>What comes next</h2>"
                    f"<p>{later}</p></article><footer>Subscribe now</footer></body></html>",
                    encoding="utf-8")
    doc = load_document(path)
    assert "Subscribe now" not in doc.text and "Home | News" not in doc.text
    assert _path_at(doc, "Analysts expect") == ("Chip talks", "What comes next")
    assert _path_at(doc, "The regulator met") == ("Chip talks",)
    _sections_start_with_their_heading(doc)


def test_passages_carry_the_heading_path_not_in_their_text(tmp_path: Path) -> None:
    path = tmp_path / "shutil.html"
    path.write_text(SPHINX_PAGE, encoding="utf-8")
    doc = load_document(path)
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=30, overlap_tokens=0))
    body = next(c for c in chunks if c.text.startswith("Recursively copy"))
    assert "copytree" not in body.text.split(".")[0]  # the sentence does not name it
    assert body.heading[-1] == SIGNATURE
    assert doc.text[body.start:body.end] == body.text  # offsets are the text's alone
    assert embedding_text(doc, body).startswith(" › ".join(body.heading))


# --- Markdown and plain text -----------------------------------------------------------


def test_markdown_heading_path_table_and_code(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(
        "# Guide\n\nIntro text of the guide.\n\n## Install\n\nRun the installer.\n\n"
        "### Options\n\n| Flag | Meaning |\n|---|---|\n| -q | quiet |\n\n"
        "```\npip install x\n  --upgrade\n```\n\n## Use\n\nStart it.\n", encoding="utf-8")
    doc = load_document(tmp_path / "guide.md")
    assert doc.title == "Guide"
    assert "| Flag | Meaning |\n|---|---|\n| -q | quiet |" in doc.text.split("\n\n")
    assert "pip install x\n  --upgrade" in doc.text.split("\n\n")
    assert _path_at(doc, "Run the installer") == ("Guide", "Install")
    assert _path_at(doc, "| -q | quiet |") == ("Guide", "Install", "Options")
    assert _path_at(doc, "Start it") == ("Guide", "Use")  # "Use" ends "Install" and "Options"
    assert _path_at(doc, "Intro text") == ("Guide",)
    _sections_start_with_their_heading(doc)


def test_plain_text_heading_path_is_its_title(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("Headline of the report here\n\nA sentence of reporting "
                                    "that is long enough to be prose.\n", encoding="utf-8")
    doc = load_document(tmp_path / "r.txt")
    assert doc.sections == ()
    assert [c.heading for c in chunk_document(doc)] == [("Headline of the report here",)]


def test_assemble_closes_sections_at_their_scope() -> None:
    text, sections = assemble([Block("Top", heading=2), Block("a"), Block("term", heading=7),
                               Block("defined"), Block(close=7), Block("after"),
                               Block("Next", heading=2), Block("b")])
    assert text == "Top\n\na\n\nterm\n\ndefined\n\nafter\n\nNext\n\nb"
    assert sections == (Section(0, text.index("Next") - 2, 2, "Top"),
                        Section(text.index("term"), text.index("after") - 2, 7, "term"),
                        Section(text.index("Next"), len(text), 2, "Next"))


def test_markdown_blocks_keep_a_paragraph_s_lines_joined() -> None:
    assert list(markdown_blocks("one\ntwo\n\n## H\n")) == [Block("one two"), Block("H", 2)]


def test_heading_path_shortens_long_headings() -> None:
    title = "A title longer than forty characters, which is never cut"
    doc = Document("d", "d.txt", "x" * 10, "0" * 64, title=title,
                   sections=(Section(0, 10, 7, "f(" + "a, " * 60 + ")"),))
    path = heading_path(doc, 0, 40)
    assert path[0] == title and len(path[1]) <= 40 and path[1].endswith("…")


# --- the prompt, the verifier and the quote -------------------------------------------


def _hit(heading: tuple[str, ...]) -> Hit:
    return Hit(Chunk("shutil", 100, 100 + len(COPYTREE_BODY), COPYTREE_BODY, 40,
                     heading=heading), 0.9, 1)


def test_prompt_shows_the_heading_above_the_passage() -> None:
    doc = Document("shutil", "shutil.html", "x", "0" * 64, title="shutil docs")
    hit = _hit(("shutil docs", "Directory and files operations", SIGNATURE))
    assert passage_context(hit, doc) == f"Directory and files operations › {SIGNATURE}"
    user = build_messages("Which function copies a tree?", [hit], {"shutil": doc})[-1]["content"]
    block = user.split("<passage", 1)[1].split("</passage>")[0]
    lines = block.split("\n")
    assert lines[1] == f"[Section: Directory and files operations › {SIGNATURE}]"
    assert lines[2] == COPYTREE_BODY
    # a passage without a heading below its title has no such line
    plain = build_messages("q", [_hit(("shutil docs",))], {"shutil": doc})[-1]["content"]
    assert "[Section:" not in plain
    # a passage that opens with its last heading (an entry's signature) is not told it twice
    opening = Hit(Chunk("shutil", 100, 200, f"{SIGNATURE}\n\n{COPYTREE_BODY}", 50,
                        heading=("shutil docs", "Directory and files operations", SIGNATURE)),
                  0.9, 1)
    user = build_messages("q", [opening], {"shutil": doc})[-1]["content"]
    assert "[Section: Directory and files operations]\n" + SIGNATURE in user


def test_verifier_takes_the_name_from_the_heading_path() -> None:
    claim = "shutil.copytree recursively copies an entire directory tree rooted at src."
    without = Evidence(COPYTREE_BODY, "shutil docs").verdict(claim)
    named = Evidence(COPYTREE_BODY, "shutil docs", context=SIGNATURE).verdict(claim)
    # another function's heading does not name it
    other = Evidence(COPYTREE_BODY, "shutil docs", context="shutil.rmtree(path)").verdict(claim)
    assert not other.supported
    assert not without.supported and named.supported
    assert named.quote in COPYTREE_BODY and "copytree(" not in named.quote


def test_answer_quotes_the_passage_not_its_heading(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "shutil.html").write_text(SPHINX_PAGE, encoding="utf-8")

    def reply(messages: list[dict[str, str]]) -> str:
        user = messages[-1]["content"]
        blocks = user.split("<passage n=\"")[1:]
        n = next(b.split('"')[0] for b in blocks if "Recursively copy" in b)
        assert f"› {SIGNATURE}]" in next(b for b in blocks if "Recursively copy" in b)
        return (f"Passage: {n}\nAnswer: shutil.copytree recursively copies an entire "
                f"directory tree rooted at src [{n}].")

    # the answer check names the function: its words are in the heading, not the quote
    generator = ScriptedGenerator(reply, extract="shutil.copytree")
    a = Assistant.open(corpus_dir=corpus, index_dir=tmp_path / "index",
                       settings=Settings.from_env(chunk_tokens=40, chunk_overlap_tokens=0),
                       embedder=FakeEmbedder(), generator=generator)
    answer = a.ask("Which function recursively copies an entire directory tree?")
    assert not answer.refused and "copytree" in answer.text
    quote = answer.citations[0].quote
    assert quote.startswith("Recursively copy") and SIGNATURE not in quote
    c = answer.citations[0]
    assert a.document("shutil").text[c.start:c.end] == quote
    # the check was shown the heading above the quoted sentence
    check = generator.checks[-1][-1]["content"]
    assert f"{SIGNATURE}: Recursively copy" in check


# --- the index ---------------------------------------------------------------------------


def test_index_stores_the_heading_path(tmp_path: Path,
                                       make_assistant: Callable[..., Assistant]) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "shutil.html").write_text(SPHINX_PAGE, encoding="utf-8")
    a = make_assistant(corpus=corpus, chunk_tokens=40, chunk_overlap_tokens=0)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    rows = [json.loads(line) for line in
            (tmp_path / "index" / manifest["generation"] / "chunks.jsonl").read_text()
            .splitlines()]
    assert any(row["heading"] and row["heading"][-1] == SIGNATURE for row in rows)
    reopened = make_assistant(corpus=corpus, chunk_tokens=40, chunk_overlap_tokens=0)
    assert reopened.build_report.status == "up to date"
    assert [h.chunk.heading for h in reopened.search("copy a directory tree", k=50)] \
        == [h.chunk.heading for h in a.search("copy a directory tree", k=50)]


def test_lookup_names_the_headings_of_the_cited_span(tmp_path: Path,
                                                     make_assistant: Callable[..., Assistant]
                                                     ) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "shutil.html").write_text(SPHINX_PAGE, encoding="utf-8")
    a = make_assistant(corpus=corpus)
    doc = a.document("shutil")
    start = doc.text.index("Recursively copy")
    end = doc.text.index(".", start) + 1
    passage = a.lookup(make_id("shutil", start, end, doc.text[start:end]))
    assert passage.heading == ("shutil — High-level file operations",
                               "Directory and files operations", SIGNATURE)
    assert passage.text == doc.text[start:end] and SIGNATURE not in passage.text
    assert passage.to_dict()["heading"] == list(passage.heading)
    intro = doc.text.index("The shutil module")
    assert a.lookup(make_id("shutil", intro, intro + 10, doc.text[intro:intro + 10])
                    ).heading == ("shutil — High-level file operations",)


@pytest.mark.real
def test_heading_retrieves_a_passage_that_does_not_name_its_subject(
        tmp_path: Path, real_embedder: object) -> None:
    """Real embedder: the question names the function; only the passage's heading does."""
    from assistant.index.indexing import refresh
    from assistant.ingest.documents import load_corpus
    from assistant.retrieve.retriever import Retriever

    corpus = tmp_path / "docs"
    corpus.mkdir()
    others = {
        "copyfile": "Copy the contents of the file named src to a file named dst.",
        "rmtree": "Delete an entire directory tree; path must point to a directory.",
        "move": "Recursively move a file or directory to another location and return it.",
        "chown": "Change owner user and group of the given path.",
        "which": "Return the path to an executable which would be run.",
    }
    items = "".join(f'<dl class="py function"><dt>shutil.{name}(path)</dt><dd><p>{text}</p>'
                    f'</dd></dl>' for name, text in others.items())
    (corpus / "shutil.html").write_text(
        f'<html><head><title>File operations</title></head><body><div role="main">'
        f'<h1>File operations</h1>{items}<dl class="py function"><dt>{SIGNATURE}</dt>'
        f'<dd><p>Walk through everything under a folder and reproduce it elsewhere, '
        f'including the folders inside it.</p></dd></dl></div></body></html>',
        encoding="utf-8")
    settings = ChunkerSettings(max_tokens=24, overlap_tokens=0)
    index, _ = refresh(load_corpus(corpus).documents, tmp_path / "index",
                       real_embedder, settings)  # type: ignore[arg-type]
    target = next(c for c in index.chunks if c.text.startswith("Walk through"))
    assert "copytree" not in target.text and target.heading[-1] == SIGNATURE
    question = "What does shutil.copytree do?"
    retriever = Retriever(index, real_embedder, mode="dense")  # type: ignore[arg-type]
    hits = retriever.search(question, k=len(index.chunks))
    # of the passages whose text does not name it, the one under its heading comes first
    bodies = [h.chunk.key for h in hits if "copytree" not in h.chunk.text]
    assert bodies[0] == target.key
    # and the heading is why: the passage's text alone is farther from the question
    vectors = real_embedder.embed([question, target.text,  # type: ignore[attr-defined]
                                   f"{' › '.join(target.heading)}\n{target.text}"])
    assert float(vectors[0] @ vectors[2]) > float(vectors[0] @ vectors[1]) + 0.05


def test_a_passage_half_full_ends_where_a_section_starts() -> None:
    first = "Alpha sentence number one is here. " * 5
    second = "Beta sentence number two is here."
    blocks = [Block("f(x)", heading=7), Block(first.strip()), Block(close=7),
              Block("g(y)", heading=7), Block(second.strip()), Block(close=7)]
    text, sections = assemble(blocks)
    doc = Document("d", "d.html", text, "0" * 64, title="T", sections=sections)
    settings = ChunkerSettings(max_tokens=60, overlap_tokens=0)
    assert count_tokens(text[:text.index("g(y)")]) >= 30 and count_tokens(text) <= 60
    chunks = chunk_document(doc, settings)
    assert [c.text.split("\n")[0] for c in chunks] == ["f(x)", "g(y)"]
    assert [c.heading for c in chunks] == [("T", "f(x)"), ("T", "g(y)")]
    # without sections the same text fills one passage
    plain = Document("d", "d.txt", text, "0" * 64, title="T")
    assert len(chunk_document(plain, settings)) == 1


def test_a_quoted_definition_is_led_by_its_term(tmp_path: Path) -> None:
    from assistant.answer.decide import AnswerBuilder
    from assistant.records import Answer, definition_term

    path = tmp_path / "shutil.html"
    path.write_text(SPHINX_PAGE, encoding="utf-8")
    doc = load_document(path)
    assert definition_term(doc, doc.text.index("Recursively copy")) == SIGNATURE
    assert definition_term(doc, doc.text.index("The functions above")) is None
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=30, overlap_tokens=0))
    hits = [Hit(c, 0.5, i) for i, c in enumerate(chunks, start=1)]
    n = next(i for i, h in enumerate(hits, start=1) if "Recursively copy" in h.chunk.text)
    sentence = COPYTREE_BODY.split(". ")[0] + "."
    builder = AnswerBuilder({"shutil": doc}, FakeEmbedder())
    base = Answer("Which function copies a tree?", "", True)
    answer = builder.quoted(base, hits, n, sentence)
    assert answer.text.startswith(f"{SIGNATURE}: Recursively copy")
    assert answer.citations[0].quote == sentence  # the quote is the sentence alone
    m = next(i for i, h in enumerate(hits, start=1) if "Pack the files" in h.chunk.text)
    nested = builder.quoted(base, hits, m, "Pack the files into one archive and return its name.")
    assert nested.text.startswith("pack(name): Pack the files")  # the innermost term
    # a sentence that names its term is not led by it
    k = next(i for i, h in enumerate(hits, start=1) if "copytree(source" in h.chunk.text)
    line = "copytree(source, destination,"
    assert builder.quoted(base, hits, k, line).text.startswith(line)
    outside = next(i for i, h in enumerate(hits, start=1)
                   if "The functions above" in h.chunk.text)
    plain = builder.quoted(base, hits, outside, "The functions above follow symbolic links.")
    assert plain.text.startswith("The functions above")
