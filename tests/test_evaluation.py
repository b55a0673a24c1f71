"""Eval metrics (citation precision, unsupported sentences, gold recall) and the
retriever comparison, on synthetic eval files with the fake models."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant import cli, core
from assistant.answer.draft import REFUSAL
from assistant.core import Assistant
from assistant.errors import CitationError, ConfigError
from assistant.evaluation import (
    EvalItem,
    ItemResult,
    compare_retrievers,
    evaluate,
    factual_citations,
    factual_sentences,
    first_found_rank,
    format_retrieval_table,
    format_table,
    invented_facts,
    load_items,
    quote_matches_gold,
    shown_facts,
)
from assistant.records import Answer, Chunk, Citation, Document, Hit
from assistant.retrieve.retriever import Retriever
from conftest import SCMP, TOMS, FakeEmbedder, ScriptedGenerator

Make = Callable[..., Assistant]

DOC = Document("d1", "d1.txt", "unused", "0" * 64, title="Beijing weighs H200 imports",
               outlet="South China Morning Post", authors=("Ann Cao",))
APPROVAL = "The approval covered more than 400,000 units for ByteDance, Alibaba and Tencent."
SHARES = "Nvidia shares rose on Friday."


def _citation(n: int, quote: str, doc_id: str = "d1") -> Citation:
    return Citation(n, f"{doc_id}:0-{len(quote)}:x", doc_id, None, 0, len(quote), quote)


def _hit(text: str, rank: int = 1, doc_id: str = "d1") -> Hit:
    return Hit(Chunk(doc_id, 0, len(text), text, len(text.split())), 1.0 / rank, rank)


def _write(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------- pure metrics
def test_load_items_reads_gold(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.jsonl", [
        {"id": "a", "question": "q?", "answerable": True, "gold": ["x y"], "history": ["h?"]},
        {"id": "b", "question": "q?", "answerable": False, "gold": None},
        {"id": "c", "question": "q?", "answerable": False},
    ])
    items = load_items(path)
    assert [i.gold for i in items] == [("x y",), (), ()]
    assert items[0].history == ("h?",)
    _write(path, [{"id": "a", "question": "q?", "answerable": True, "gold": "a string"}])
    with pytest.raises(ConfigError, match="line 1"):
        load_items(path)


def test_a_history_of_turns_gives_the_replies(tmp_path: Path) -> None:
    """Turns with roles: the user turns are the history, the assistant's the replies."""
    from assistant.evaluation import run_item

    turns = [{"role": "user", "content": "Who led them?"},
             {"role": "assistant", "content": "The NDRC [1]."}]
    path = _write(tmp_path / "e.jsonl", [
        {"id": "a", "question": "When?", "answerable": True, "history": turns}])
    item = load_items(path)[0]
    assert (item.history, item.replies) == (("Who led them?",), ("The NDRC [1].",))
    seen: list[object] = []

    class Recorder(StubAssistant):
        def ask(self, question: str, history: object = None) -> Answer:
            seen.append((question, history))
            return super().ask(question, history)

    answer = Answer("When?", "On December 10 [1].", False, (), (), {})
    run_item(Recorder({"When?": answer}, {"When?": []}), item)  # type: ignore[arg-type]
    assert seen == [("When?", turns)]  # the first turn is not asked again
    _write(path, [{"id": "a", "question": "q?", "answerable": True,
                   "history": [{"role": "assistant", "content": "x"}]}])
    with pytest.raises(ConfigError, match="line 1"):
        load_items(path)


def test_quote_matches_gold_needs_30_characters_or_the_whole_gold() -> None:
    gold = "abcdefghij klmnopqrst uvwxyz0123 456789"
    assert quote_matches_gold("... ABCDEFGHIJ   klmnopqrst\nuvwxyz01 ...", gold)  # 30 chars
    assert not quote_matches_gold("... abcdefghij klmnopqrst uvwxyz0 ...", gold)  # 29 chars
    assert quote_matches_gold("It said: the SHORT gold, indeed.", "the short  gold")
    assert not quote_matches_gold("the short", "the short gold")
    assert not quote_matches_gold("", gold)


def test_invented_facts_lists_names_and_numbers_absent_from_the_quotes() -> None:
    assert shown_facts("More than 400,000 units went to ByteDance and H20 users.") == {
        "400,000", "ByteDance", "H20"}
    answer = Answer("q", "More than 400,000 units were approved for ByteDance [1][2]. "
                    "Meridian Capital got 300,000 units [1]. Tencent got some as well [3].",
                    False, (_citation(1, APPROVAL), _citation(2, SHARES)))
    assert invented_facts(answer, {"d1": DOC}.get) == [
        "Meridian Capital got 300,000 units.: 300,000, Capital",
        "Tencent got some as well.: no citation behind its marker"]
    # The cited report's outlet may label an account; other names may not come from it.
    labelled = Answer("q", "South China Morning Post: the approval covered more than 400,000 "
                      "units for ByteDance [1].", False, (_citation(1, APPROVAL),))
    assert invented_facts(labelled, {"d1": DOC}.get) == []
    states = Answer("q", "The chips pass through the US first [1].", False,
                    (_citation(1, "Chips would be imported into the United States first."),))
    assert invented_facts(states, {"d1": DOC}.get) == []
    assert invented_facts(Answer("q", REFUSAL, True), {"d1": DOC}.get) == []


def test_factual_sentences_counts_sentences_whose_quote_holds_a_fact() -> None:
    answer = Answer("q", "It covered 400,000 units [1]. Shares rose [2]. Nothing [3].", False,
                    (_citation(1, APPROVAL), _citation(2, SHARES)))
    item = EvalItem("a", "q", True, expect_all=("400,?000",))
    assert factual_sentences(answer, item) == (1, 3)
    assert factual_sentences(answer, EvalItem("b", "q", False)) is None


def test_factual_citations_by_pattern_or_gold_overlap() -> None:
    answer = Answer("q", "x [1][2][3].", False, (
        _citation(1, APPROVAL),                                  # gold overlap
        _citation(2, SHARES),                                    # expect_all match
        _citation(3, "Officials requested estimates earlier."),  # neither
    ))
    item = EvalItem("a", "q", True, expect_all=("(?i)shares? (rose|fell)",),
                    gold=("more than 400,000  units for ByteDance",))
    assert factual_citations(answer, item) == (2, 3)
    assert factual_citations(answer, EvalItem("a", "q", True)) == (0, 3)
    assert factual_citations(answer, EvalItem("b", "q", False)) is None


def test_first_found_rank_passage_and_document_level() -> None:
    hits = [_hit("Nothing here.", 1, "scmp-x"), _hit("More  than 400,000\nunits.", 2, "toms-y")]
    assert first_found_rank(EvalItem("a", "q", True, gold=("than 400,000 units",)), hits) == 2
    assert first_found_rank(EvalItem("a", "q", True, gold=("absent",)), hits) is None
    # Document level: every source must be among the retrieved reports.
    assert first_found_rank(EvalItem("a", "q", True, sources=("scmp",)), hits) == 1
    assert first_found_rank(EvalItem("a", "q", True, sources=("scmp", "toms")), hits) == 2
    assert first_found_rank(EvalItem("a", "q", True, sources=("wsj",)), hits) is None


# --------------------------------------------------- evaluate, with a stub pipeline
class StubAssistant:
    """Gives scripted answers and hits per question, like Assistant.ask/search/document."""

    def __init__(self, answers: dict[str, Answer], hits: dict[str, list[Hit]]) -> None:
        self.answers = answers
        self.hits = hits

    def ask(self, question: str, history: object = None) -> Answer:
        return self.answers[question]

    def search(self, query: str, k: int = 5, history: object = None) -> list[Hit]:
        return self.hits[query][:k]

    def document(self, doc_id: str) -> Document:
        if doc_id != "d1":
            raise CitationError("no such report")
        return DOC


def test_summary_metrics_on_a_synthetic_eval_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.jsonl", [
        {"id": "a", "question": "How many units were approved?", "answerable": True,
         "expect_all": ["400,?000"], "sources": ["d1"],
         "gold": ["more than 400,000 units for ByteDance"], "kind": "figure"},
        {"id": "b", "question": "What did the shares do?", "answerable": True,
         "expect_all": ["(?i)rose"], "sources": ["d1"], "gold": ["not in any passage"],
         "kind": "figure"},
        {"id": "c", "question": "Who won the World Cup?", "answerable": False,
         "kind": "unanswerable"},
    ])
    stub = StubAssistant(
        answers={
            "How many units were approved?": Answer(
                "a", "More than 400,000 units were approved for ByteDance [1][2]. "
                "Tencent got some as well [3].", False,
                (_citation(1, APPROVAL), _citation(2, SHARES)),
                unsupported=("A sentence the verifier removed.",)),
            "What did the shares do?": Answer(
                "b", "Nvidia shares rose [1].", False, (_citation(1, SHARES, "d2"),),
                other_reports=(_citation(2, APPROVAL),)),
            "Who won the World Cup?": Answer(
                "c", REFUSAL, True, unsupported=("Bogus claim.", "Another one.")),
        },
        hits={
            "How many units were approved?": [_hit(SHARES), _hit(
                "The approval covered more than 400,000\n units for ByteDance, Alibaba.", 2)],
            "What did the shares do?": [_hit(SHARES)],
            "Who won the World Cup?": [_hit(SHARES)],
        },
    )
    report = evaluate(stub, load_items(path))  # type: ignore[arg-type]
    a, b, c = report.results
    assert (len(a.invented), a.citations_factual, a.citations_total, a.sentences_factual,
            a.sentences, a.unsupported_sentences, a.gold_recall_at_5) == (1, 1, 2, 1, 2, 1, True)
    # The report of d2 is unknown: no outlet, but the sentence names nothing its quote lacks.
    assert (len(b.invented), b.citations_factual, b.citations_total, b.sentences_factual,
            b.sentences, b.unsupported_sentences, b.gold_recall_at_5) == (0, 1, 1, 1, 1, 0, False)
    assert (c.invented, c.citations_factual, c.sentences, c.unsupported_sentences,
            c.gold_recall_at_5) == ((), None, 0, 2, None)
    s = report.summary
    assert s["invented_facts"] == (1, 3)
    assert s["factual_sentences"] == (2, 3)
    assert s["citation_precision_facts"] == (2, 3)
    assert s["unsupported_sentence_rate"] == (3, 6)
    assert s["gold_recall_at_5"] == (1, 2)
    assert s["recall_at_5"] == (2, 2) and s["refusal_accuracy"] == (3, 3)
    assert a.other_docs == () and b.other_docs == (_citation(2, APPROVAL).doc_id,)
    assert s["answers_quoting_other_reports"] == (1, 2)  # of the two answered questions
    table = format_table(report)
    summary = {line[:30].strip(): line[30:].strip() for line in table.splitlines()
               if len(line) > 30}
    assert summary["shown with a fact not in quote"] == "1/3 (33%)"
    assert summary["citation precision (facts)"] == "2/3 (67%)"
    assert summary["unsupported sentences"] == "3/6 (50%)"
    assert summary["recall@5 (gold passages)"] == "1/2 (50%)"
    assert s["kinds"]["figure"] == {"answers": (2, 2), "refusals": (2, 2)}
    assert summary["kind unanswerable"] == "answers 0/0, refusals 1/1 (100%)"
    assert table.splitlines()[1].split()[5:9] == ["ok", "1", "1/2", "1"]
    assert "  a: Tencent got some as well.: no citation behind its marker" in table
    data = json.loads(json.dumps(report.to_dict()))
    assert data["summary"]["citation_precision_facts"] == [2, 3]
    assert data["results"][0]["invented"] == [
        "Tencent got some as well.: no citation behind its marker"]


def test_item_result_stays_backward_compatible() -> None:
    old = ItemResult("x", "q", True, "a", False, (), True, True, True, True, 1.0, None)
    assert old.invented == () and old.gold_recall_at_5 is None and old.trace == {}


def test_eval_through_the_pipeline(make_assistant: Make, tmp_path: Path) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        user = messages[-1]["content"]
        if "400,000 units" not in user:
            return REFUSAL
        n = next(int(b.split('"')[1]) for b in user.split("<passage n=")[1:]
                 if "400,000 units" in b)
        return (f"More than 400,000 units were approved for ByteDance, Alibaba and Tencent [{n}]. "
                "Bogus claim about Mars rovers [9].")

    path = _write(tmp_path / "e.jsonl", [
        {"id": "a", "question": "How many H200 units were approved for ByteDance, Alibaba and "
         "Tencent?", "answerable": True, "expect_all": ["400,?000"], "sources": ["scmp"],
         "gold": ["The approval covered more than 400,000 units for ByteDance"]},
    ])
    report = evaluate(make_assistant(reply), load_items(path))
    (r,) = report.results
    assert r.answer_ok and r.sources_ok and r.recall_at_5 and r.gold_recall_at_5
    assert (r.sentences, r.unsupported_sentences) == (1, 1)
    assert r.invented == () and r.sentences_factual == 1
    assert (r.citations_factual, r.citations_total) == (1, 1)
    assert report.summary["unsupported_sentence_rate"] == (1, 2)


# ------------------------------------------------------------ retriever comparison
GOLD_ITEMS = [
    {"id": "g1", "question": "The approval covered more than 400,000 units for ByteDance, "
     "Alibaba Group Holding and Tencent Holdings", "answerable": True, "sources": ["scmp"],
     "gold": ["The approval covered more than 400,000 units for ByteDance"]},
    {"id": "g2", "question": "Which quantum computer did Nvidia unveil?", "answerable": True,
     "sources": ["scmp"], "gold": ["a sentence that is in no report at all"]},
    {"id": "d1", "question": "Since when have they overseen AI chip procurement?",
     "answerable": True, "sources": ["tomshardware"],
     "history": ["Which agencies led the emergency meetings?"]},
    {"id": "u1", "question": "Who won the World Cup?", "answerable": False},
    {"id": "n1", "question": "An answerable item without gold or sources?", "answerable": True},
]


def test_compare_retrievers_scores_each_mode(make_assistant: Make, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str, tuple[str, ...]]] = []
    search = Retriever.search

    def spy(self: Retriever, query: str, k: int, context: Sequence[str] = ()) -> list[Hit]:
        calls.append((self.mode, query, tuple(context)))
        return search(self, query, k, context)

    monkeypatch.setattr(Retriever, "search", spy)
    items = load_items(_write(tmp_path / "e.jsonl", GOLD_ITEMS))
    result = compare_retrievers(make_assistant(), items)
    assert [s.mode for s in result.scores] == ["dense", "lexical", "hybrid"]
    assert result.passage_level == ("g1", "g2") and result.document_level == ("d1",)
    assert result.unscored == ("n1",) and result.gold_missing == ("g2",)
    assert ("lexical", "Since when have they overseen AI chip procurement?",
            ("Which agencies led the emergency meetings?",)) in calls
    assert not any(q == "Who won the World Cup?" for _, q, _ in calls)
    for score in result.scores:
        # g1 quotes its gold passage, so every mode ranks it first; g2 is never found.
        assert score.ranks["g1"] == 1 and score.ranks["g2"] is None
        d1 = score.ranks["d1"]
        assert d1 is not None
        assert score.recall[1] == pytest.approx((1 + (d1 == 1)) / 3)
        assert score.recall[5] == pytest.approx(2 / 3)
        assert score.mrr == pytest.approx((1 + 1 / d1) / 3)
    table = format_retrieval_table(result).splitlines()
    assert table[0].split() == ["mode", "items", "r@1", "r@3", "r@5", "MRR@5"]
    assert [row.split()[0] for row in table[1:4]] == ["dense", "lexical", "hybrid"]
    assert all(row.split()[1] == "3" for row in table[1:4])
    assert "2 items judged by gold passage, 1 by source document" in table
    assert "gold in no passage of the index: g2" in table
    data = json.loads(json.dumps(result.to_dict()))
    assert data["items"] == 3 and data["modes"][2]["ranks"]["g2"] is None
    assert set(data["modes"][0]["recall"]) == {"@1", "@3", "@5"}


def test_assistant_retriever_modes(make_assistant: Make) -> None:
    a = make_assistant()
    assert a.retriever().mode == "hybrid"
    lexical = a.retriever("lexical")
    assert lexical.mode == "lexical" and lexical.index is a.retriever("dense").index
    with pytest.raises(ValueError, match="mode"):
        a.retriever("sparse")


# -------------------------------------------------------------------- the CLI
@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake embedder; the model records that it was loaded (and answers from one passage)."""
    loaded: list[str] = []

    def generator(settings: object) -> ScriptedGenerator:
        loaded.append("model")
        return ScriptedGenerator(["Both agencies have overseen AI chip procurement since 2022."])

    monkeypatch.setattr(core, "_default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr(core, "_default_generator", generator)
    return loaded


def test_cli_eval_retrieval_needs_no_model(fake_models: list[str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "e.jsonl", GOLD_ITEMS)
    assert cli.main(["eval", str(path), "--retrieval"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["mode", "items", "r@1", "r@3", "r@5", "MRR@5"]
    assert [r.split()[0] for r in rows[1:4]] == ["dense", "lexical", "hybrid"]
    assert cli.main(["eval", str(path), "--retrieval", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["mode"] for m in data["modes"]] == ["dense", "lexical", "hybrid"]
    assert fake_models == []


def test_cli_eval_json_has_the_new_metrics(fake_models: list[str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "e.jsonl", [
        {"id": "d1", "question": "Since when have the agencies overseen AI chip procurement?",
         "answerable": True, "expect_all": ["2022"], "sources": ["tomshardware"],
         "gold": ["Both agencies have overseen AI chip procurement since the first round"]},
    ])
    assert cli.main(["eval", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert fake_models == ["model"]
    s = data["summary"]
    assert s["invented_facts"] == [0, 1] and s["citation_precision_facts"] == [1, 1]
    assert s["unsupported_sentence_rate"] == [0, 1] and s["gold_recall_at_5"] == [1, 1]
    assert data["results"][0]["cited_docs"] == [TOMS] and SCMP not in data["results"][0]["answer"]


def test_cli_calibrate_fits_on_one_split_and_reports_another(
        fake_models: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cal = _write(tmp_path / "cal.jsonl", [
        {"id": "a", "question": "How would the restrictions be communicated?",
         "answerable": True, "expect_all": ["(?i)window guidance"]},
        {"id": "u", "question": "What is the capital of Australia?", "answerable": False}])
    test = _write(tmp_path / "fresh.jsonl", [
        {"id": "t", "question": "Which agencies led the meetings?", "answerable": True}])
    out = tmp_path / "policy.json"
    assert cli.main(["calibrate", str(cal), "--test", str(test), "--write", str(out)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("min_relevance = ") and "extractive_threshold = " in rows[0]
    assert rows[2].split() == ["calibration", "fresh"]
    assert rows[3].split()[-2:][0] == "1/1"  # the answerable calibration question passes
    assert json.loads(out.read_text())["min_relevance"] == float(rows[0].split()[2])
    assert fake_models == []


def test_step_gains_score_each_decide_step_from_the_trace() -> None:
    from assistant.evaluation import step_gains

    item = EvalItem("a", "How many units?", True, ("400,000",))
    refusal = "The reports do not say."
    # the model's chosen passage gave a right sentence; the target check then refused it
    r = ItemResult("a", "How many units?", True, refusal, True, (), False, None, False, None,
                   1.0, None, trace={"before:chosen": "Some units [1].",
                                     "before:target": "400,000 units [1]."})
    unanswerable = EvalItem("u", "Price?", False)
    u = ItemResult("u", "Price?", False, "A sentence [1].", False, (), None, None, False, None,
                   1.0, None, trace={"before:entity": refusal})
    gains = step_gains([r, u], [item, unanswerable])
    assert gains["chosen"] == (1, 1, 0) and gains["target"] == (1, 0, 1)
    assert gains["entity"] == (1, 0, 1) and gains["named"] == (0, 0, 0)
