"""The web UI's app and handlers, with a small scripted fake assistant (no model, no server)."""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from assistant.errors import CitationError, DocumentError, QuestionError
from assistant.ingest.uploads import store_upload
from assistant.records import (
    INDEXED,
    SKIPPED,
    Answer,
    Chunk,
    Citation,
    Document,
    Hit,
    Passage,
    ReportState,
    Status,
    TextDelta,
    UploadLimits,
    span_hash,
)
from ui import render
from ui.app import create_app
from ui.handlers import GENERIC_ERROR, Handlers

ARTICLE = ("Tax News\n\nChips made in Taiwan would be imported into the United States, "
           "taxed at 25% and then re-exported to approved buyers in China.\n\n"
           "Officials said <b>more</b> rules may follow.")
SPAN = "taxed at 25% and then re-exported to approved buyers in China."
START = ARTICLE.index(SPAN)
END = START + len(SPAN)
CITE_ID = f"tomshardware-test:{START}-{END}:0123abcd"

GOOD_TXT = ("Chip makers face new rules\n\nBy Ann Example\n\n"
            "The government announced on Monday that chip exports will need a licence from "
            "next year, according to officials familiar with the plan.\n\n"
            "Companies said they were studying the details of the new rules carefully.\n")


def _citation() -> Citation:
    return Citation(n=1, id=CITE_ID, doc_id="tomshardware-test", title="H200 <tax> report",
                    start=START, end=END, quote=SPAN)


def _passage(citation_id: str = CITE_ID) -> Passage:
    return Passage(citation_id=citation_id, doc_id="tomshardware-test", title="H200 <tax> report",
                   outlet="Tom's Hardware", authors=("Ann Example", "Bo Test"),
                   date="2025-12-10", url="https://example.com/h200", start=START, end=END,
                   text=SPAN, before=ARTICLE[:START], after=ARTICLE[END:])


def _hit() -> Hit:
    doc_id = "tomshardware-test"
    return Hit(Chunk(doc_id, START, END, SPAN, 20), 0.9, 1)


@dataclass
class FakeAssistant:
    """Scripted stand-in for :class:`assistant.Assistant`."""

    corpus_dir: Path
    fail_with: Exception | None = None
    asked: list[tuple[str, list[Any]]] = field(default_factory=list)
    scopes: list[dict[str, Any]] = field(default_factory=list)
    reindexed: int = 0

    def __post_init__(self) -> None:
        self.build_report = SimpleNamespace(status="up to date", documents=1, chunks=3,
                                            seconds=0.2, reason="")
        self.model_status = "ready: model loaded"
        self.model_ready = True
        self.unsupported: tuple[str, ...] = ()
        self.matched: list[tuple[str, str]] = []
        self.upload_limits = UploadLimits(20 * 2**20, (".txt", ".md", ".markdown", ".html",
                                                       ".htm", ".pdf", ".docx"))
        self.data_folders = (self.corpus_dir,)

    def add_report(self, filename: str, data: bytes, *, overwrite: bool = False) -> Path:
        return store_upload(self.corpus_dir, filename, data, overwrite=overwrite)

    def ask_stream(self, question: str, history: list[Any] | None = None,
                   **scope: Any) -> Iterator[Any]:
        self.asked.append((question, list(history or [])))
        self.scopes.append(scope)
        if self.fail_with is not None:
            raise self.fail_with
        yield Status("searching", "searching the reports")
        yield Status("reading", "reading 2 passages", (_hit(),))
        yield Status("writing", "writing the answer")
        for piece in ["The chips are ", "taxed at 25%", "."]:
            yield TextDelta(piece)
        yield Answer(question, "The chips are taxed at 25% [1].", False, (_citation(),),
                     (), {"total_s": 1.5}, unsupported=self.unsupported)

    def ask(self, question: str, history: list[Any] | None = None, **scope: Any) -> Answer:
        answer = None
        for event in self.ask_stream(question, history, **scope):
            answer = event
        assert isinstance(answer, Answer)
        return answer

    def lookup(self, citation_id: str) -> Passage:
        if citation_id.strip() != CITE_ID:
            raise CitationError("that is not a citation id (expected something like "
                                "'report-name:120-480:1a2b3c4d')")
        return _passage()

    def document(self, doc_id: str) -> Document:
        return Document(doc_id=doc_id, path="/secret/corpus/x.txt", text=ARTICLE, sha256="0",
                        title="H200 <tax> report", outlet="Tom's Hardware",
                        url="https://example.com/h200", date="2025-12-10")

    @property
    def reports(self) -> dict[str, Document]:
        return {"tomshardware-test": self.document("tomshardware-test")}

    def closest_sentence(self, citation_id: str, question: str) -> str:
        self.matched.append((citation_id, question))
        return CITE_ID

    def documents(self) -> list[dict[str, Any]]:
        return [{"doc_id": p.stem, "title": f"Title of {p.stem}", "outlet": "Outlet",
                 "authors": ["A. Writer"], "date": None, "chunks": 3}
                for p in sorted(self.corpus_dir.iterdir()) if not p.name.startswith(".")]

    def skipped(self) -> list[tuple[str, str]]:
        return [("broken.txt", "broken.txt is empty")]

    def report_states(self) -> list[ReportState]:
        return [*(ReportState(d["doc_id"], f"{d['doc_id']}.txt", INDEXED, "", d["title"],
                              d["outlet"], d["date"], None, d["chunks"])
                  for d in self.documents()),
                ReportState("broken", "broken.txt", SKIPPED, "broken.txt is empty")]

    def remove_report(self, name: str, progress: Any = None) -> Any:
        path = self.corpus_dir / f"{name}.txt"
        if not path.is_file():
            raise DocumentError(f"there is no report {name!r} in the corpus")
        path.unlink()
        return self.reindex()

    def reindex(self, force: bool = False, progress: Any = None) -> Any:
        self.reindexed += 1
        docs = self.documents()
        if progress:
            for i, doc in enumerate(docs):
                progress(doc["doc_id"], i, len(docs))
        return SimpleNamespace(status="updated", documents=len(docs), chunks=3 * len(docs),
                               seconds=0.1, reason="")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "tomshardware-test.txt").write_text(GOOD_TXT, encoding="utf-8")
    return folder


@pytest.fixture
def fake(corpus: Path) -> FakeAssistant:
    return FakeAssistant(corpus)


def _select(index: Any, value: Any) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": value})


def _run_chat(handlers: Handlers, question: str, chat: list[Any] | None = None
              ) -> list[tuple[Any, ...]]:
    box, chat, pending, _status = handlers.add_turn(question, chat or [])
    assert box == ""
    return list(handlers.answer(pending, chat))


def test_create_app_builds_without_launching(fake: FakeAssistant) -> None:
    demo = create_app(fake)  # type: ignore[arg-type]
    assert isinstance(demo, gr.Blocks)
    assert not demo.is_running
    assert fake.asked == [] and fake.reindexed == 0
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"q", "chat", "passage", "sources", "lookup", "scope-reports", "scope-outlets",
            "scope-since", "scope-until", "remove-choice", "remove"} <= ids
    api = {d["api_name"]: d for d in demo.config["dependencies"] if d.get("api_name")}
    assert "ask" in api and "lookup" in api
    public = {name for name, d in api.items() if d.get("api_visibility") == "public"}
    assert public == {"ask", "lookup", "search", "list_reports"}  # also the MCP tools


def test_link_markers_escapes_and_links() -> None:
    answer = Answer("q?", "<script>x</script> taxed [1] and [1, 2] or [9].", False,
                    (_citation(),))
    out = render.link_markers(answer.segments())
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count(f'<a class="cite" href="#cite-1" title="{CITE_ID}">&#91;1&#93;</a>') == 1
    assert "&#91;1, 2&#93;" in out and "&#91;9&#93;" in out  # unknown numbers stay plain text


def test_stream_shows_progress_then_linked_answer_and_sources(fake: FakeAssistant) -> None:
    steps = _run_chat(Handlers(fake), "Which tax applies?")  # type: ignore[arg-type]
    bubbles = [str(chat[-1]["content"]) for chat, *_ in steps]
    assert "searching the reports" in bubbles[0]
    assert any("reading 2 passages" in b for b in bubbles)
    # The retrieved passages are listed while the model is still reading.
    reading = next(step for step in steps if "reading 2 passages" in str(step[1]))
    assert reading[2].constructor_args["samples"] == [["#1", "Title of tomshardware-test", SPAN]]
    assert reading[3] == [{"id": f"tomshardware-test:{START}-{END}:{span_hash(SPAN)}",
                           "question": "Which tax applies?"}]
    # a new question clears the passage panel and the copy tools of the last answer
    assert "passage-empty" in steps[0][4] and steps[0][5] == ""
    # the reply streams plainly as a draft, its markers kept back for the checked answer
    drafts = [b for b in bubbles if "draft, being checked" in b]
    assert drafts and all("cite" not in b for b in drafts)
    assert '<span class="draft">The chips are taxed at 25%' in drafts[-1]
    assert "draft" not in str(steps[-1][0][-1]["content"])
    chat, status, sources, rows, passage, tools = steps[-1]
    assert chat[-2] == {"role": "user", "content": "Which tax applies?"}
    final = chat[-1]["content"]
    assert re.search(r'<a class="cite" href="#cite-1" title="[^"]+">&#91;1&#93;</a>', final)
    assert "answered in 1.5 s with 1 source" in status
    assert isinstance(sources, gr.Dataset)
    assert sources.constructor_args["samples"] == [["[1]", "H200 <tax> report", SPAN]]
    assert rows == [{"id": CITE_ID}]
    # the passage panel follows the latest answer: it shows the answer's first citation
    assert f'<mark id="cited-passage">{render.escape(SPAN)}</mark>' in passage
    # the copy tools carry the answer as plain text and as Markdown with footnotes
    assert 'class="copy-btn" data-kind="text"' in tools and "Copy as Markdown" in tools
    assert "The chips are taxed at 25% [1].\n\nReferences\n[1] “" in html.unescape(tools)
    assert "The chips are taxed at 25% [^1]." in html.unescape(tools)
    assert f"Citation id: `{CITE_ID}`" in html.unescape(tools)


def test_history_sent_to_model_is_plain(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    chat = _run_chat(handlers, "Which tax applies?")[-1][0]
    _run_chat(handlers, "And who buys them?", chat)
    question, history = fake.asked[-1]
    assert question == "And who buys them?"
    assert history == [{"role": "user", "content": "Which tax applies?"},
                       {"role": "assistant", "content": "The chips are taxed at 25%."}]


def test_empty_question_gets_a_message(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    box, chat, pending, status = handlers.add_turn("   ", [])
    assert (box, chat, pending) == ("", [], None)
    assert "Type a question first" in status
    assert len(list(handlers.answer(pending, chat))) == 1
    assert fake.asked == []


def test_time_shown_includes_the_wait_in_the_queue(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    _, chat, pending, _ = handlers.add_turn("Which tax applies?", [])
    assert pending is not None
    pending["asked_at"] -= 30.0  # asked 30 s ago; the assistant's own timing says 1.5 s
    status = list(handlers.answer(pending, chat))[-1][1]
    seconds = float(re.search(r"answered in ([\d.]+) s", status).group(1))  # type: ignore[union-attr]
    assert 30.0 <= seconds < 60.0


def test_left_out_sentences_are_listed_and_open(fake: FakeAssistant) -> None:
    fake.unsupported = ("Martians bought <the> rest.",)
    status = _run_chat(Handlers(fake), "Which tax applies?")[-1][1]  # type: ignore[arg-type]
    assert "1 sentence no passage supports was left out" in status
    assert re.search(r"<details class=\"left-out\"><summary>.*</summary><ul><li>"
                     r"Martians bought &lt;the&gt; rest\.</li></ul></details>", status)


def test_retrieved_passage_opens_at_the_sentence_that_matched(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    rows = [{"id": "tomshardware-test:0-300:00000000", "question": "Which tax applies?"}]
    view = handlers.show_source(rows, _select(0, None))
    assert fake.matched == [("tomshardware-test:0-300:00000000", "Which tax applies?")]
    assert f'<mark id="cited-passage">{render.escape(SPAN)}</mark>' in view


def test_model_state_line_polls_until_ready(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    fake.model_ready = False
    fake.model_status = "loading the model (4 s)"
    line, timer = handlers.model_line()
    assert "Model: loading the model (4 s)…" in line and timer.constructor_args["active"]
    fake.model_ready = True
    fake.model_status = "ready: model loaded"
    line, timer = handlers.model_line()
    assert "Model: ready: model loaded" in line and not timer.constructor_args["active"]


def test_hover_preview_gives_the_quote_and_its_report(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    assert handlers.cite_preview(CITE_ID) == {
        "quote": SPAN, "title": "H200 <tax> report", "source": "Tom's Hardware · 2025-12-10"}
    assert "not a citation id" in handlers.cite_preview("nonsense")["error"]


@pytest.mark.parametrize(("exc", "shown"), [
    (QuestionError("the question is too long (3000 characters; the limit is 2000)"),
     "the question is too long"),
    (RuntimeError("boom at /secret/path/model.gguf"), GENERIC_ERROR),
])
def test_errors_become_short_messages(fake: FakeAssistant, exc: Exception, shown: str) -> None:
    fake.fail_with = exc
    chat, status, _, ids, *_ = _run_chat(Handlers(fake), "q?")[-1]  # type: ignore[arg-type]
    bubble = chat[-1]["content"]
    assert shown in bubble and shown in status and ids == []
    for text in (bubble, status):
        assert "Traceback" not in text and "/secret" not in text


def test_api_errors_are_gradio_errors_without_paths(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    assert handlers.api_ask("Which tax?", [])["citations"][0]["id"] == CITE_ID
    assert handlers.api_lookup(CITE_ID)["text"] == SPAN
    with pytest.raises(gr.Error) as caught:
        handlers.api_lookup("nonsense")
    assert "not a citation id" in caught.value.message
    fake.fail_with = RuntimeError("failed to open /secret/x")
    with pytest.raises(gr.Error) as caught:
        handlers.api_ask("Which tax?", [])
    assert "/secret" not in caught.value.message


def test_citation_link_and_source_and_lookup_show_the_passage(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    rows = [{"id": CITE_ID}]
    by_link = handlers.show_link(rows, _select(1, CITE_ID))
    by_number = handlers.show_link(rows, _select(1, ""))
    by_source = handlers.show_source(rows, _select(0, None))
    by_lookup = handlers.passage_view(f"  {CITE_ID} ")
    assert by_link == by_number == by_source == by_lookup
    html = by_link
    assert f"<mark id=\"cited-passage\">{render.escape(SPAN)}</mark>" in html
    assert "Tax News" in html and "&lt;b&gt;more&lt;/b&gt;" in html  # full article, escaped
    for meta in ("H200 &lt;tax&gt; report", "Tom&#x27;s Hardware", "2025-12-10",
                 "Ann Example, Bo Test", 'href="https://example.com/h200"'):
        assert meta in html
    assert "no longer available" in handlers.show_source([], _select(0, None))
    bad = handlers.passage_view("nonsense")
    assert "not a citation id" in bad and "<mark" not in bad


def test_passage_panel_shows_the_heading_path_escaped() -> None:
    passage = dataclasses.replace(_passage(), heading=("H200 <tax> report", "Rules & {fees}",
                                                       "tax_rate(x)"))
    view = render.passage_html(passage, ARTICLE)
    path = ('<div class="passage-path" title="where the passage stands">H200 &lt;tax&gt; report'
            " › Rules &amp; &#123;fees&#125; › tax_rate(x)</div>")
    assert path in view
    # in the panel's head, above the article and its highlighted sentence
    assert view.index(path) < view.index('<div class="passage-text">') < view.index("<mark")
    # a report without sections has only its title there, already the panel's heading
    titled = dataclasses.replace(passage, heading=("H200 <tax> report",))
    assert "passage-path" not in render.passage_html(titled, ARTICLE)
    assert "passage-path" not in render.passage_html(_passage(), ARTICLE)


def test_stop_marks_partial_answer(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    chat, *_ = _run_chat(handlers, "Which tax applies?")[4]
    chat, status = handlers.stop(chat)
    assert "stopped" in status and chat[-1]["content"].startswith("The chips are taxed")
    _, chat, _, _ = handlers.add_turn("again", [])
    chat, _ = handlers.stop(chat)
    assert "status" not in chat[-1]["content"] and "stopped" in chat[-1]["content"]


def test_stream_closes_the_assistant_generator_when_cancelled(fake: FakeAssistant) -> None:
    closed = threading.Event()
    original = fake.ask_stream

    def stream(question: str, history: Any = None, **scope: Any) -> Iterator[Any]:
        try:
            yield from original(question, history)
        finally:
            closed.set()

    fake.ask_stream = stream  # type: ignore[method-assign]
    handlers = Handlers(fake)  # type: ignore[arg-type]
    _, chat, pending, _ = handlers.add_turn("q?", [])
    gen = handlers.answer(pending, chat)
    next(gen)
    gen.close()
    assert closed.is_set()


def test_reports_lists_documents_and_status(fake: FakeAssistant) -> None:
    status, rows = Handlers(fake).reports()  # type: ignore[arg-type]
    assert "Index up to date" in status and "broken.txt" in status
    assert "**Model:** ready: model loaded" in status
    assert rows == [["tomshardware-test", "indexed", "Title of tomshardware-test", "Outlet", "",
                     "", 3], ["broken", "skipped: broken.txt is empty", "", "", "", "", 0]]


def test_choices_offer_indexed_reports_outlets_and_every_file_to_remove(
        fake: FakeAssistant) -> None:
    reports, outlets, removable = Handlers(fake).choices()  # type: ignore[arg-type]
    assert reports.choices == [("Title of tomshardware-test (tomshardware-test)",
                                "tomshardware-test")]
    assert outlets.choices == [("Outlet", "Outlet")]
    assert removable.choices == [("tomshardware-test.txt (indexed)", "tomshardware-test"),
                                 ("broken.txt (skipped)", "broken.txt")]


def test_answer_passes_the_chosen_reports_outlets_and_dates(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    _, chat, pending, _ = handlers.add_turn("Which tax?", [])
    list(handlers.answer(pending, chat, ["tomshardware-test"], ["Outlet"], " 2025-12 ", ""))
    assert fake.scopes[-1] == {"reports": ["tomshardware-test"], "outlets": ["Outlet"],
                               "since": "2025-12", "until": None}
    list(handlers.answer(pending, chat))
    assert fake.scopes[-1] == {"reports": [], "outlets": [], "since": None, "until": None}


def test_remove_deletes_and_reindexes_or_says_why_not(fake: FakeAssistant) -> None:
    handlers = Handlers(fake)  # type: ignore[arg-type]
    msg, _, _ = handlers.remove("", _progress())
    assert "Choose a report to remove" in msg and fake.reindexed == 0
    msg, _, _ = handlers.remove("no-such", _progress())
    assert "not removed: there is no report" in msg and fake.reindexed == 0
    original = fake.reindex

    def failing(force: bool = False, progress: Any = None) -> Any:
        raise RuntimeError("disk full at /secret/index")

    fake.reindex = failing  # type: ignore[method-assign]
    (fake.corpus_dir / "other.txt").write_text(GOOD_TXT + "\nAnother line.\n")
    msg, _, _ = handlers.remove("other", _progress())
    assert "other was removed, but re-indexing failed" in msg and "/secret" not in msg
    fake.reindex = original  # type: ignore[method-assign]
    msg, _, rows = handlers.remove("tomshardware-test", _progress())
    assert "removed tomshardware-test; index updated" in msg and fake.reindexed == 1
    assert not (fake.corpus_dir / "tomshardware-test.txt").exists()
    assert [r[0] for r in rows] == ["broken"]


def _upload_file(tmp_path: Path, name: str, data: bytes) -> str:
    folder = tmp_path / "gradio-upload"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return str(path)


def _progress() -> Any:
    return lambda *args, **kwargs: None


def test_upload_good_file_is_added_and_indexed(fake: FakeAssistant, tmp_path: Path) -> None:
    text = GOOD_TXT + "\nA later paragraph adds what the regulator said on Tuesday.\n"
    path = _upload_file(tmp_path, "New Report (2025).txt", text.encode())
    msg, _status, rows, cleared = Handlers(fake).upload(path, False, _progress())  # type: ignore[arg-type]
    assert "added New-Report-2025.txt" in msg
    assert (fake.corpus_dir / "New-Report-2025.txt").read_text() == text
    assert fake.reindexed == 1 and cleared is None
    assert "New-Report-2025" in [r[0] for r in rows]


@pytest.mark.parametrize(("name", "data", "shown"), [
    ("notes.rtf", b"{\\rtf1 Notes.}", "unsupported file type"),
    ("notes.pdf", b"%PDF-1.4", "not a readable PDF"),
    ("empty.txt", b"   \n", "empty"),
    ("binary.txt", b"\x00\x01\x02" * 1000, "binary"),
    ("tomshardware-test.txt", GOOD_TXT.encode(), "already exists"),
])
def test_upload_bad_file_changes_nothing(fake: FakeAssistant, tmp_path: Path, name: str,
                                         data: bytes, shown: str) -> None:
    before = {p.name: p.read_bytes() for p in fake.corpus_dir.iterdir()}
    path = _upload_file(tmp_path, name, data)
    msg, _, _, _ = Handlers(fake).upload(path, False, _progress())  # type: ignore[arg-type]
    assert shown in msg and "not added" in msg
    assert str(tmp_path) not in msg and "Traceback" not in msg
    assert {p.name: p.read_bytes() for p in fake.corpus_dir.iterdir()} == before
    assert fake.reindexed == 0


def test_upload_without_file_asks_for_one(fake: FakeAssistant) -> None:
    msg, _, _, _ = Handlers(fake).upload(None, False, _progress())  # type: ignore[arg-type]
    assert "Choose a .txt, .md, .html, .pdf or .docx file" in msg


def test_status_mentions_sentences_left_out(fake: FakeAssistant) -> None:
    answer = Answer("q?", "Taxed at 25% [1].", False, (_citation(),), (), {"total_s": 2.0},
                    unsupported=("An unsupported claim.",))
    _, status, *_ = Handlers(fake)._final(answer, [{"role": "assistant", "content": ""}])  # type: ignore[arg-type]
    assert "1 sentence no passage supports was left out" in status


def test_refusal_has_no_sources(fake: FakeAssistant) -> None:
    answer = Answer("q?", "The reports do not say.", True, (), (), {"total_s": 2.0})
    chat, status, sources, ids, *_ = Handlers(fake)._final(  # type: ignore[arg-type]
        answer, [{"role": "assistant", "content": ""}])
    assert "do not answer" in status and ids == []
    assert sources.constructor_args["samples"] == []
    assert chat[-1]["content"] == "The reports do not say."


def test_refusal_offers_the_closest_passages(fake: FakeAssistant) -> None:
    answer = Answer("q?", "The reports do not say.", True, (), (_hit(),), {"total_s": 2.0},
                    closest=(_hit(),))
    chat, status, sources, ids, *_ = Handlers(fake)._final(  # type: ignore[arg-type]
        answer, [{"role": "assistant", "content": ""}])
    assert "closest passages are listed below" in status
    assert sources.constructor_args["samples"] == [["#1", "Title of tomshardware-test", SPAN]]
    assert ids == [{"id": f"tomshardware-test:{START}-{END}:{span_hash(SPAN)}",
                    "question": "q?"}]
    assert chat[-1]["content"] == "The reports do not say."


def test_other_reports_are_quoted_under_the_answer_and_listed_as_sources(
        fake: FakeAssistant) -> None:
    other = Citation(n=4, id="scmp-test:0-30:0123abcd", doc_id="scmp-test",
                     title="SCMP <report>", start=0, end=30, quote="Beijing has begun approving.")
    # named by its title here: the fake corpus has no scmp-test report with an outlet
    answer = Answer("q?", "The chips are taxed at 25% [1].", False, (_citation(),), (),
                    {"total_s": 2.0}, other_reports=(other,))
    chat, _, sources, ids, *_ = Handlers(fake)._final(  # type: ignore[arg-type]
        answer, [{"role": "assistant", "content": ""}])
    final = chat[-1]["content"]
    assert "Other reports on this question: SCMP &lt;report&gt;" in final
    assert f'<a class="cite" href="#cite-4" title="{other.id}">&#91;4&#93;</a>' in final
    assert ids == [{"id": CITE_ID}, {"id": other.id}]
    assert sources.constructor_args["samples"][1] == ["[4]", "SCMP <report>", other.quote]
    # a follow-up question sends the answer to the model without the quoted other reports
    assert render.plain_history(chat) == [{"role": "assistant",
                                           "content": "The chips are taxed at 25%."}]


def test_other_reports_are_named_by_their_outlet() -> None:
    other = Citation(n=4, id="scmp-test:0-30:0123abcd", doc_id="scmp-test", title="A <long> title",
                     start=0, end=30, quote="Beijing has begun approving.")
    line = render.other_reports_html([other], {"scmp-test": "South China Morning Post"})
    assert "Other reports on this question: South China Morning Post: “Beijing has begun" in line
    assert "long" not in line
    assert "A &lt;long&gt; title" in render.other_reports_html([other], {})
    assert render.other_reports_html([], {"scmp-test": "SCMP"}) == ""
