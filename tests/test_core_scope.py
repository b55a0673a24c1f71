"""A folder the user can steer: ask about some reports, remove one, see each report's state.

Fake embedder and scripted model over copies of the project corpus.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant import cli, core
from assistant.core import Assistant
from assistant.errors import CitationError, DocumentError, QuestionError
from assistant.records import CHANGED, GONE, INDEXED, NEW, SKIPPED, Chunk
from assistant.retrieve.retriever import Retriever
from conftest import REPORT, SCMP, TOMS, FakeEmbedder, ScriptedGenerator

Make = Callable[..., Assistant]
QUESTION = "What is happening with Nvidia H200 chips and Chinese companies?"


def first_sentence_of_first_passage(messages: list[dict[str, str]]) -> str:
    """Restate the first sentence of passage 1, cited to it."""
    block = messages[-1]["content"].split("<passage n=")[1]
    body = block.split(">", 1)[1].split("</passage>")[0].strip()
    sentence = body.split("\n")[-1].split(". ")[0].rstrip(".")
    return f"{sentence} [1]."


def prompt_reports(generator: ScriptedGenerator) -> set[str]:
    """The reports whose passages the last prompt showed the model (by their text)."""
    user = generator.prompts[-1][-1]["content"]
    return {doc for doc, needle in ((SCMP, "South China Morning Post"),
                                    (TOMS, "Tom's Hardware")) if needle in user}


def test_search_with_reports_ranks_only_their_passages(make_assistant: Make) -> None:
    a = make_assistant()
    everything = a.search(QUESTION, k=8)
    assert {h.chunk.doc_id for h in everything} == {SCMP, TOMS}
    for doc_id in (SCMP, TOMS):
        hits = a.search(QUESTION, k=8, reports=[doc_id])
        assert hits and {h.chunk.doc_id for h in hits} == {doc_id}
        assert len(hits) == min(8, len(a.retriever().index.doc_chunks()[doc_id]))


def test_ask_with_one_report_cites_only_that_report(make_assistant: Make) -> None:
    a = make_assistant(first_sentence_of_first_passage)
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    for doc_id in (SCMP, TOMS):
        answer = a.ask(QUESTION, reports=[doc_id])
        assert not answer.refused, answer.trace
        assert answer.citations and {c.doc_id for c in answer.citations} == {doc_id}
        assert {c.doc_id for c in answer.other_reports} <= {doc_id}
        assert prompt_reports(generator) == {doc_id}
        for hit in answer.hits:
            assert hit.chunk.doc_id == doc_id


def test_a_question_about_some_reports_never_reads_the_whole_corpus(make_assistant: Make
                                                                    ) -> None:
    a = make_assistant(first_sentence_of_first_passage, context_mode="corpus")
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    a.ask(QUESTION)
    assert prompt_reports(generator) == {SCMP, TOMS}
    answer = a.ask(QUESTION, reports=[TOMS])
    assert prompt_reports(generator) == {TOMS}
    assert {c.doc_id for c in answer.citations} <= {TOMS}


def test_outlet_and_date_filters(corpus_copy: Path, make_assistant: Make) -> None:
    (corpus_copy / f"{TOMS}.meta.yaml").write_text("outlet: Tom's Hardware\ndate: 2025-12-10\n")
    (corpus_copy / f"{SCMP}.meta.yaml").write_text(
        "outlet: South China Morning Post\ndate: 2025-11-28T08:00:00Z\n")
    a = make_assistant(corpus=corpus_copy)
    assert a.select(outlets=["tom's hardware"]) == {TOMS}
    assert a.select(outlets=["South China Morning Post", "Reuters"]) == {SCMP}
    assert a.select(since="2025-12") == {TOMS}
    assert a.select(until="2025-11") == {SCMP}
    assert a.select(since="2025-11-28", until="2025-12-10") == {SCMP, TOMS}
    assert a.select(since="2025") == {SCMP, TOMS}
    assert a.select() is None and a.select(reports=[], outlets=[]) is None
    with pytest.raises(QuestionError, match="no report matches"):
        a.select(reports=[SCMP], since="2025-12")
    hits = a.search(QUESTION, k=8, since="2025-12-01")
    assert hits and {h.chunk.doc_id for h in hits} == {TOMS}


def test_a_date_range_leaves_out_reports_without_a_date(make_assistant: Make) -> None:
    a = make_assistant()  # the project corpus states no dates
    with pytest.raises(QuestionError, match="no report matches"):
        a.ask(QUESTION, since="2000")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reports": ["no-such-report"]}, "there is no report 'no-such-report'"),
    ({"since": "last week"}, "'last week' is not a date"),
    ({"until": "2025-13-99x"}, "is not a date"),
    ({"outlets": ["The Onion"]}, "no report matches"),
])
def test_a_bad_choice_is_a_clear_error(make_assistant: Make, kwargs: dict[str, object],
                                       message: str) -> None:
    a = make_assistant()
    with pytest.raises(QuestionError, match=message):
        a.ask(QUESTION, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(QuestionError, match=message):
        a.search(QUESTION, **kwargs)  # type: ignore[arg-type]


def test_restricted_search_widens_until_it_finds_the_chosen_reports(
        fake_embedder: FakeEmbedder) -> None:
    """A report whose passages rank far down still gets its best ones."""

    class Index:
        def __init__(self, chunks: list[Chunk]) -> None:
            self.chunks = chunks
            self.manifest: dict[str, object] = {}
            self._vectors = fake_embedder.embed([c.text for c in chunks])

        def __len__(self) -> int:
            return len(self.chunks)

        def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
            scores = self._vectors @ query
            order = np.argsort(-scores)[:k]
            return [(int(i), float(scores[i])) for i in order]

        def doc_chunks(self) -> dict[str, list[int]]:
            out: dict[str, list[int]] = {}
            for pos, c in enumerate(self.chunks):
                out.setdefault(c.doc_id, []).append(pos)
            return out

        def vectors(self) -> np.ndarray:
            return self._vectors

    texts = [f"chips export licence number {i} approved" for i in range(200)]
    chunks = [Chunk("main", i * 100, i * 100 + len(t), t, 8) for i, t in enumerate(texts)]
    chunks.append(Chunk("aside", 0, 24, "a note on harbour cranes", 6))
    retriever = Retriever(Index(chunks), fake_embedder)
    assert all(h.chunk.doc_id == "main" for h in retriever.search("chips export licence", 5))
    hits = retriever.search("chips export licence", 5, reports={"aside"})
    assert [h.chunk.doc_id for h in hits] == ["aside"]
    assert retriever.search("chips export licence", 5, reports={"missing"}) == []


# --- remove ------------------------------------------------------------------------


def test_remove_drops_the_report_its_passages_and_its_citations(
        corpus_copy: Path, make_assistant: Make, fake_embedder: FakeEmbedder) -> None:
    a = make_assistant(first_sentence_of_first_passage, corpus=corpus_copy)
    answer = a.ask(QUESTION, reports=[SCMP])
    cited = answer.citations[0]
    assert cited.doc_id == SCMP and a.lookup(cited.id).text == cited.quote
    kept_before = [c for c in a.retriever().index.chunks if c.doc_id == TOMS]
    calls = len(fake_embedder.calls)

    report = a.remove_report(SCMP)
    assert report.status == "updated" and report.removed_documents == (SCMP,)
    assert report.embedded_chunks == 0 and report.reused_documents == (TOMS,)
    assert len(fake_embedder.calls) == calls  # nothing embedded again
    assert not (corpus_copy / f"{SCMP}.txt").exists()
    assert not (corpus_copy / f"{SCMP}.meta.yaml").exists()  # the sidecar goes with it
    assert (corpus_copy / f"{TOMS}.txt").exists()
    chunks = a.retriever().index.chunks
    assert {c.doc_id for c in chunks} == {TOMS}
    assert [c for c in chunks if c.doc_id == TOMS] == kept_before
    with pytest.raises(CitationError, match=r"no report .* in the corpus \(it was removed"):
        a.lookup(cited.id)
    with pytest.raises(QuestionError, match=f"there is no report '{SCMP}'"):
        a.ask(QUESTION, reports=[SCMP])
    assert SCMP not in {d["doc_id"] for d in a.documents()}
    # a fresh session over the same folder and index agrees
    again = make_assistant(corpus=corpus_copy)
    assert again.build_report.status == "up to date"
    with pytest.raises(CitationError):
        again.lookup(cited.id)


@pytest.mark.parametrize("name", ["no-such-report", "../corpus", "", ".hidden", "a/b"])
def test_removing_what_is_not_there_changes_nothing(corpus_copy: Path, make_assistant: Make,
                                                    name: str) -> None:
    a = make_assistant(corpus=corpus_copy)
    before = sorted(p.name for p in corpus_copy.iterdir())
    with pytest.raises(DocumentError, match="there is no report"):
        a.remove_report(name)
    assert sorted(p.name for p in corpus_copy.iterdir()) == before
    assert a.build_report.status != "updated"


def test_a_skipped_file_can_be_removed_by_its_name(corpus_copy: Path, make_assistant: Make
                                                   ) -> None:
    (corpus_copy / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    a = make_assistant(corpus=corpus_copy)
    assert ("photo.png", "unsupported file type") in a.skipped()
    a.remove_report("photo.png")
    assert not (corpus_copy / "photo.png").exists() and a.skipped() == []


# --- states ------------------------------------------------------------------------


def test_report_states_follow_the_folder(corpus_copy: Path, make_assistant: Make) -> None:
    (corpus_copy / "empty.txt").write_text("")
    a = make_assistant(corpus=corpus_copy)
    states = {s.doc_id: s for s in a.report_states()}
    assert states[SCMP].state == INDEXED and states[SCMP].passages > 0
    assert states[SCMP].outlet == "South China Morning Post"
    assert states["empty"].state == SKIPPED and "empty" in states["empty"].reason

    path = corpus_copy / f"{TOMS}.txt"
    path.write_text(path.read_text() + "\nA late correction.\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    sidecar = corpus_copy / f"{SCMP}.meta.yaml"
    sidecar.write_text(sidecar.read_text() + "date: 2025-12-01\n")
    (corpus_copy / "fresh.txt").write_text(REPORT)
    (corpus_copy / "empty.txt").unlink()
    states = {s.doc_id: s for s in a.report_states()}
    assert states[TOMS].state == CHANGED
    assert states[SCMP].state == CHANGED  # its metadata changed
    assert states["fresh"].state == NEW
    assert states["empty"].state == GONE
    a.reindex()
    states = {s.doc_id: s for s in a.report_states()}
    assert {s.state for s in states.values()} == {INDEXED}
    assert set(states) == {SCMP, TOMS, "fresh"}


# --- the command line ----------------------------------------------------------------


@pytest.fixture
def scripted_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "_default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr(core, "_default_generator",
                        lambda settings: ScriptedGenerator(first_sentence_of_first_passage))


def test_cli_report_flags_remove_and_reports(scripted_cli: None, corpus_copy: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["--corpus-dir", str(corpus_copy)]
    for doc_id in (SCMP, TOMS):
        assert cli.main(["ask", "--json", *flags, "--report", doc_id, QUESTION]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["citations"] and {c["doc_id"] for c in data["citations"]} == {doc_id}
    assert cli.main(["ask", "--json", *flags, "--report", SCMP, "--report", TOMS, QUESTION]
                    ) == 0
    cited = json.loads(capsys.readouterr().out)["citations"][0]["id"]
    assert cli.main(["search", *flags, "--report", TOMS, QUESTION]) == 0
    assert SCMP not in capsys.readouterr().out

    assert cli.main(["reports", *flags]) == 0
    assert f"{SCMP}: indexed" in capsys.readouterr().out
    assert cli.main(["remove", *flags, SCMP.split("-")[0]]) == 2
    assert "not removed: there is no report 'scmp'" in capsys.readouterr().err
    doc_id = cited.split(":")[0]
    assert cli.main(["remove", *flags, doc_id]) == 0
    out = capsys.readouterr().out
    assert f"removed {doc_id}" in out and "index updated" in out and "1 removed" in out
    assert cli.main(["cite", *flags, cited]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: there is no report '{doc_id}'") and "removed" in err
    assert "Traceback" not in err
    assert cli.main(["ask", *flags, "--report", doc_id, QUESTION]) == 2
    assert f"there is no report '{doc_id}'" in capsys.readouterr().err
    assert cli.main(["reports", "--json", *flags]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["doc_id"] for s in listed] == [d for d in (SCMP, TOMS) if d != doc_id]
