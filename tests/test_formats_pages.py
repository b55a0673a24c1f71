"""Pages of PDF reports through the pipeline: stored with the passages, named by citations.

Fake embedder and scripted model; the PDFs and DOCX files are built in code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import cli, core
from assistant.core import Assistant
from assistant.index.faiss_store import MANIFEST
from assistant.records import page_of
from conftest import REPORT, FakeEmbedder, ScriptedGenerator, passage_number
from report_files import PAGE_1, PAGE_2, make_docx, make_pdf, write_file
from ui import render

Make = Callable[..., Assistant]
# Page 2's answer: the sentence the scripted model restates, cited to its passage.
NEEDLE = "400,000 units"
REPLY = ("The commerce ministry said it had received applications for 400,000 units "
         "and would decide on the licences before the end of the quarter [{n}].")
FILLER = ("Analysts in Shanghai said the decision would shape procurement plans for the "
          "coming year, since data centre operators had already placed provisional orders.")


def reply(messages: list[dict[str, str]]) -> str:
    return REPLY.format(n=passage_number(messages, NEEDLE))


def paged_corpus(tmp_path: Path) -> Path:
    """A corpus of a two-page PDF (the answer on page 2), a DOCX and a text report."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_file(corpus, "h200-brief.pdf", make_pdf([[PAGE_1, FILLER], [FILLER + " Again.", PAGE_2]],
                                                  title="H200 brief"))
    write_file(corpus, "memo.docx", make_docx([("p", "Officials declined to comment on the "
                                                     "timing of the decision.")]))
    write_file(corpus, "rules.txt", REPORT.encode())
    return corpus


def chunk_rows(index_dir: Path) -> list[dict[str, object]]:
    manifest = json.loads((index_dir / MANIFEST).read_text())
    path = index_dir / manifest["generation"] / "chunks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_passages_are_stored_with_their_page(make_assistant: Make, tmp_path: Path) -> None:
    a = make_assistant(corpus=paged_corpus(tmp_path), chunk_tokens=40, chunk_overlap_tokens=8)
    pdf = a.document("h200-brief")
    rows = chunk_rows(tmp_path / "index")
    pages = {r["doc_id"]: set() for r in rows}  # type: ignore[misc]
    for row in rows:
        pages[row["doc_id"]].add(row["page"])  # type: ignore[index]
    assert pages["h200-brief"] == {1, 2}
    assert pages["memo"] == {None} and pages["rules"] == {None}
    for chunk in a.retriever().index.chunks:
        doc = a.document(chunk.doc_id)
        assert chunk.page == page_of(doc, chunk.start)
    assert any(c.page == 2 and NEEDLE in c.text for c in a.retriever().index.chunks)
    assert len(pdf.pages) == 2


def test_a_citation_to_a_pdf_names_its_page_and_lookup_returns_it(make_assistant: Make,
                                                                   tmp_path: Path) -> None:
    a = make_assistant(reply, corpus=paged_corpus(tmp_path))
    answer = a.ask("How many units did the commerce ministry receive applications for?")
    assert not answer.refused, answer.trace
    cited = [c for c in answer.citations if c.doc_id == "h200-brief"]
    assert cited and NEEDLE in cited[0].quote
    assert cited[0].page == 2
    assert answer.to_dict()["citations"][0]["page"] == 2
    passage = a.lookup(cited[0].id)
    assert passage.page == 2 and passage.to_dict()["page"] == 2
    assert passage.text == cited[0].quote
    assert render.source_samples(cited)[0][1] == "H200 brief, p. 2"
    assert '<span class="page">page 2</span>' in render.passage_html(passage)
    # a report without pages names none
    memo = a.search("Officials declined to comment on the timing", k=1)[0]
    assert memo.chunk.doc_id == "memo" and memo.chunk.page is None
    assert a.lookup(memo.citation_id).page is None


def test_the_cli_names_the_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    corpus = paged_corpus(tmp_path)
    monkeypatch.setattr(core, "_default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr(core, "_default_generator", lambda settings: ScriptedGenerator(reply))
    flags = ["--corpus-dir", str(corpus)]
    assert cli.main(["ask", *flags, "How many units did the ministry receive applications for?"]
                    ) == 0
    out = capsys.readouterr().out
    assert "H200 brief, page 2:" in out
    assert cli.main(["ask", "--json", *flags, "How many units did the ministry receive?"]) == 0
    data = json.loads(capsys.readouterr().out)
    cited = data["citations"][0]
    assert cited["page"] == 2
    assert cli.main(["cite", *flags, cited["id"]]) == 0
    assert "of h200-brief, page 2" in capsys.readouterr().out
    assert cli.main(["cite", "--json", *flags, cited["id"]]) == 0
    assert json.loads(capsys.readouterr().out)["page"] == 2


def _drop_pages(index_dir: Path) -> None:
    """Make the FAISS index look like one written before pages were kept (no ``page`` key)."""
    manifest = json.loads((index_dir / MANIFEST).read_text())
    path = index_dir / manifest["generation"] / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        del row["page"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest["files"]["chunks.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def test_an_index_from_before_pages_loads_when_no_report_has_pages(
        make_assistant: Make, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    make_assistant()  # the project corpus: text reports only
    _drop_pages(tmp_path / "index")
    calls = len(fake_embedder.calls)
    a = make_assistant()
    assert a.build_report.status == "up to date"
    assert len(fake_embedder.calls) == calls  # nothing embedded again
    assert all(c.page is None for c in a.retriever().index.chunks)


def test_an_index_from_before_pages_is_rebuilt_for_a_pdf(make_assistant: Make,
                                                         tmp_path: Path) -> None:
    corpus = paged_corpus(tmp_path)
    small = {"chunk_tokens": 40, "chunk_overlap_tokens": 8}
    make_assistant(corpus=corpus, **small)
    _drop_pages(tmp_path / "index")
    a = make_assistant(corpus=corpus, **small)
    assert a.build_report.status == "rebuilt"
    assert "h200-brief" in a.build_report.reason and "pages" in a.build_report.reason
    assert {c.page for c in a.retriever().index.chunks if c.doc_id == "h200-brief"} == {1, 2}
    assert make_assistant(corpus=corpus, **small).build_report.status == "up to date"


def test_a_stored_page_that_is_wrong_rebuilds(make_assistant: Make, tmp_path: Path) -> None:
    corpus = paged_corpus(tmp_path)
    make_assistant(corpus=corpus, chunk_tokens=40, chunk_overlap_tokens=8)
    index_dir = tmp_path / "index"
    manifest = json.loads((index_dir / MANIFEST).read_text())
    path = index_dir / manifest["generation"] / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        if row["page"] == 2:
            row["page"] = 1
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest["files"]["chunks.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    a = make_assistant(corpus=corpus, chunk_tokens=40, chunk_overlap_tokens=8)
    assert a.build_report.status == "rebuilt"
    assert any(c.page == 2 for c in a.retriever().index.chunks)


@pytest.mark.parametrize("page", ["2", 0, True, -1])
def test_a_malformed_page_is_a_damaged_index(make_assistant: Make, tmp_path: Path,
                                             page: object) -> None:
    corpus = paged_corpus(tmp_path)
    make_assistant(corpus=corpus)
    index_dir = tmp_path / "index"
    manifest = json.loads((index_dir / MANIFEST).read_text())
    path = index_dir / manifest["generation"] / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["page"] = page
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest["files"]["chunks.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    a = make_assistant(corpus=corpus)
    assert a.build_report.status == "rebuilt"
    assert "could not be read" in a.build_report.reason


def test_qdrant_keeps_the_pages(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    pytest.importorskip("qdrant_client")
    from assistant.index import qdrant_store
    from assistant.settings import Settings

    corpus = paged_corpus(tmp_path)
    settings = Settings.from_env(vector_store="qdrant", index_dir=tmp_path / "index",
                                 chunk_tokens=40, chunk_overlap_tokens=8)
    try:
        first = Assistant.open(corpus_dir=corpus, settings=settings, embedder=fake_embedder,
                               generator=ScriptedGenerator(reply))
        assert {c.page for c in first.retriever().index.chunks
                if c.doc_id == "h200-brief"} == {1, 2}
        again = Assistant.open(corpus_dir=corpus, settings=settings, embedder=fake_embedder,
                               generator=ScriptedGenerator(reply))
        assert again.build_report.status == "up to date"
        assert sorted((c.doc_id, c.start, c.page) for c in again.retriever().index.chunks) == \
            sorted((c.doc_id, c.start, c.page) for c in first.retriever().index.chunks)
    finally:
        qdrant_store.close_all()
