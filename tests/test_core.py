"""The facade, Assistant: asking and streaming, questions and history, documents, lookup."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import citations
from assistant.answer.draft import REFUSAL, SYSTEM_PROMPT
from assistant.answer.policy import DEFAULT_POLICY
from assistant.core import Assistant, normalize_history
from assistant.errors import CitationError, QuestionError
from assistant.records import Answer, Status, TextDelta
from conftest import SCMP, TOMS
from conftest import passage_number as _passage_number

Make = Callable[..., Assistant]


def test_answer_cites_the_passage_it_used(make_assistant: Make) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "400,000 units")
        return (f"More than 400,000 units were approved for ByteDance, Alibaba and Tencent [{n}]. "
                "Bogus claim about Mars rovers [9].")

    a = make_assistant(reply)
    answer = a.ask("How many H200 units were approved for ByteDance, Alibaba and Tencent?")
    assert not answer.refused
    assert "400,000" in answer.text and "[9]" not in answer.text and "Mars" not in answer.text
    assert [u.split(" — ")[0] for u in answer.unsupported] == ["Bogus claim about Mars rovers."]
    assert len(answer.citations) == 1
    c = answer.citations[0]
    assert c.doc_id == SCMP and f"[{c.n}]" in answer.text
    assert a.document(SCMP).text[c.start : c.end] == c.quote
    assert "400,000 units" in c.quote
    assert a.lookup(c.id).text == c.quote


def test_refusal_and_unsupported_answers(make_assistant: Make) -> None:
    a = make_assistant([REFUSAL, "The H200 has 141 GB of HBM3e memory [1]."])
    first = a.ask("Who won the 2022 World Cup?")
    assert first.refused and first.text == REFUSAL and first.citations == ()
    second = a.ask("How much memory does the H200 have?")
    assert second.refused and second.citations == ()
    assert [u.split(" — ")[0] for u in second.unsupported] == [
        "The H200 has 141 GB of HBM3e memory."]


def test_stream_order_and_prompt_layout(make_assistant: Make) -> None:
    a = make_assistant(["Alibaba, ByteDance and Tencent were asked for demand forecasts."])
    events = list(a.ask_stream("Which companies were asked for demand forecasts?"))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["Status", "Status"] and kinds[-1] == "Answer"
    stages = [e.stage for e in events if isinstance(e, Status)]
    assert stages == ["searching", "reading", "writing", "checking"]
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed.startswith("Alibaba")
    prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    assert prompt[0] == {"role": "system", "content": SYSTEM_PROMPT}
    # a folder read per question: the windows around the best-ranked sentences
    assert 1 <= prompt[-1]["content"].count("<passage n=") <= DEFAULT_POLICY.window_sentences
    assert a.generator.continued == []  # type: ignore[attr-defined]  # a reply that answers


def test_a_reply_that_names_a_passage_and_stops_is_continued_once(make_assistant: Make
                                                                  ) -> None:
    asked = "Which companies were asked to provide demand forecasts?"
    sentence = ("Representatives from Alibaba, ByteDance, and Tencent were asked to provide "
                "demand forecasts for the H200")

    replies: list[str] = []

    def reply(messages: list[dict[str, str]]) -> str:  # the passage, then (asked on) the answer
        n = _passage_number(messages, "demand forecasts")
        replies.append(f"Passage: {n}" if not replies else f" {sentence} [{n}].")
        return replies[-1]

    a = make_assistant(reply)
    events = list(a.ask_stream(asked))
    answer = events[-1]
    assert isinstance(answer, Answer) and not answer.refused, answer
    assert sentence in answer.text and "chosen" not in answer.trace
    n = _passage_number(a.generator.prompts[0], "demand forecasts")  # type: ignore[attr-defined]
    assert a.generator.continued == [f"Passage: {n}\nAnswer:"]  # type: ignore[attr-defined]
    assert answer.trace["continued"] == f"Passage: {n} Answer:"
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed.startswith("Representatives from Alibaba")
    # a continuation that adds nothing (a backend that cannot continue) leaves the choice
    silent = make_assistant(lambda m: "" if silent.generator.continued  # type: ignore[attr-defined]
                            else f"Passage: {_passage_number(m, 'demand forecasts')}")
    answer = silent.ask(asked)
    assert "continued" not in answer.trace and "chosen" in answer.trace, answer.trace


def test_follow_up_uses_the_conversation(make_assistant: Make) -> None:
    a = make_assistant(["x"])
    history = [{"role": "user", "content": "Which agencies led the emergency meetings?"},
               {"role": "assistant", "content": [{"type": "text", "text": "The NDRC [1]."}]}]
    hits = a.search("Since when have they overseen it?", k=3, history=history)
    assert any("National Development and Reform Commission" in h.chunk.text for h in hits)
    answer = a.ask("Since when have they overseen it?", history=history)
    prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    # made to stand alone, the follow-up is asked alone: the model is not shown the last
    # answer to repeat
    assert "standalone" in answer.trace
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert prompt[-1]["content"].endswith(f"Question: {answer.trace['standalone']}")
    # one the conversation step cannot rewrite is asked with the earlier turns
    unresolved = a.ask("Why?", history=history)
    assert "standalone" not in unresolved.trace
    prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    assert [m["role"] for m in prompt] == ["system", "user"]
    # the passages open the user turn, the earlier turns follow them as quoted lines:
    # a follow-up starts like any question on them, so the model reuses what it holds
    asked = prompt[1]["content"]
    assert asked.startswith("<passage n=") and asked.count("<passage n=") >= 1
    assert asked.endswith("</passage>\n\nEarlier in this conversation:\n"
                          "Question: Which agencies led the emergency meetings?\n"
                          "Answer: The NDRC [1].\n\nQuestion: Why?")


def test_history_normalization() -> None:
    turns = normalize_history([{"role": "user", "content": "a"}, {"role": "system", "content": "x"},
                               {"role": "assistant", "content": [{"type": "text", "text": "b"}]},
                               "junk", {"role": "user", "content": "  "}])
    assert turns == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_questions_are_refused_clearly(make_assistant: Make, question: str) -> None:
    with pytest.raises(QuestionError, match="type a question"):
        make_assistant().ask(question)


def test_long_question_gets_a_limit_message(make_assistant: Make) -> None:
    with pytest.raises(QuestionError, match="too long"):
        make_assistant().ask("why " * 10_000)


def test_passages_fit_the_token_budget(make_assistant: Make) -> None:
    a = make_assistant(["x"], passage_token_budget=200, max_answer_tokens=100, top_k=5)
    a.ask("What did the regulators propose?")
    user = a.generator.prompts[-1][-1]["content"]  # type: ignore[attr-defined]
    assert 1 <= user.count("<passage n=") < 5


def test_documents_and_lookup_errors(make_assistant: Make) -> None:
    a = make_assistant()
    docs = {d["doc_id"]: d for d in a.documents()}
    assert docs[SCMP]["authors"] == ["Ann Cao", "Coco Feng", "Wency Chen"]
    assert all(d["chunks"] > 0 for d in docs.values())
    with pytest.raises(CitationError, match="not a citation id"):
        a.lookup("nonsense")
    with pytest.raises(CitationError, match="no report"):
        a.lookup("missing-doc:0-10:00000000")
    with pytest.raises(CitationError, match="changed"):
        a.lookup(f"{SCMP}:0-10:00000000")


def test_citation_id_survives_reindex_but_not_an_edit(make_assistant: Make,
                                                       corpus_copy: Path) -> None:
    a = make_assistant(corpus=corpus_copy)
    chunk = a.search("window guidance", k=1)[0].chunk
    cid = citations.make_id(chunk.doc_id, chunk.start, chunk.end, chunk.text)
    (corpus_copy / f"{SCMP}.txt").write_text("A new headline for a new report\n\nAll new text "
                                             "about other things entirely here.\n")
    a.reindex()
    assert a.lookup(cid).text == chunk.text
    path = corpus_copy / f"{TOMS}.txt"
    path.write_text("Inserted opening line of a changed report\n\n" + path.read_text())
    a.reindex()
    with pytest.raises(CitationError):
        a.lookup(cid)


def test_answer_json_shape() -> None:
    answer = Answer("q", "text", False)
    assert json.loads(json.dumps(answer.to_dict())) == {
        "answer": "text", "refused": False, "citations": [], "unsupported": [],
        "other_reports": []}


def test_reply_form_is_parsed_and_streamed_without_its_header(make_assistant: Make) -> None:
    from assistant.answer.draft import chose_none, draft_text, parse_reply, visible_text

    raw = "Passage: 2\nAnswer: The tax is 25% [2]."
    assert parse_reply(raw) == (2, "The tax is 25% [2].")
    assert parse_reply("Passage: 3\nBeijing paused shipments.") == (3, "Beijing paused shipments.")
    assert parse_reply("Plain answer [1].") == (None, "Plain answer [1].")
    assert chose_none("Passage: none\nAnswer: Brazil") and not chose_none(raw)
    longer = raw + " It is high [1, 2]."
    drafts = [draft_text(longer[:i]) for i in range(len(longer) + 1)]
    assert drafts[-1] == "The tax is 25%. It is high."  # no passage number before the checks
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(drafts))
    prefixes = [visible_text(raw[:i]) for i in range(len(raw) + 1)]
    assert all(not p or "The tax is 25% [2].".startswith(p) for p in prefixes)
    assert prefixes[-1] == "The tax is 25% [2]."

    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "window guidance")
        return f"Passage: {n}\nAnswer: Through informal window guidance."

    a = make_assistant(reply)
    events = list(a.ask_stream("How would the restrictions be communicated?"))
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed == "Through informal window guidance."
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.citations[0].doc_id == TOMS
    none = make_assistant(["Passage: none\nAnswer: Paris is the capital of France."])
    assert none.ask("What is the capital of France?").refused


def test_the_timings_count_each_model_call_and_its_tokens(make_assistant: Make) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "400,000 units")
        return f"More than 400,000 units were approved [{n}]."

    answer = make_assistant(reply).ask(
        "How many H200 units were approved for ByteDance, Alibaba and Tencent?")
    assert not answer.refused
    # the draft and the answer check, each a streamed reply; each described in the trace
    assert answer.timings["model_calls"] == 2
    assert answer.trace["model_calls"].count("stream:") == 2
    assert answer.timings["tokens_written"] > 0
    assert "tokens_read" in answer.timings and answer.timings["model_s"] >= 0


def test_a_traced_model_records_what_the_backend_reports() -> None:
    from assistant.models.trace import TracedGenerator, summarise
    from conftest import ScriptedGenerator

    inner = ScriptedGenerator(["One two three."])
    traced = TracedGenerator(inner)
    chat = [{"role": "user", "content": "Say it."}]
    inner_stream = inner.stream

    def reporting(messages: list[dict[str, str]], max_tokens: int, prefix: str = ""
                  ) -> Iterator[str]:
        inner.last_stats = {"prompt_tokens": 50.0, "reused_tokens": 40.0, "written_tokens": 3.0}
        yield from inner_stream(messages, max_tokens, prefix)

    inner.stream = reporting  # type: ignore[method-assign]
    assert "".join(traced.stream(chat, 10)) == "One two three."
    assert traced.lock is inner.lock
    totals = summarise(traced.calls)
    assert (totals["model_calls"], totals["tokens_read"], totals["tokens_reused"],
            totals["tokens_written"]) == (1, 10, 40, 3)
    assert traced.calls[0].describe().startswith("stream: 10 read, 40 reused, 3 written")


def test_sentence_windows_are_read_and_cited_with_exact_offsets(make_assistant: Make,
                                                                 tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"window_sentences": 2, "window_around": 0}')

    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "400,000 units")
        return f"Passage: {n}\nAnswer: More than 400,000 units were approved [{n}]."

    a = make_assistant(reply, answer_policy_file=policy)
    answer = a.ask("How many H200 units were approved for ByteDance, Alibaba and Tencent?")
    prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    # two sentences are read, not five passages
    assert 1 <= prompt[-1]["content"].count("<passage n=") <= 2
    assert not answer.refused and "400,000" in answer.text
    cited = answer.citations[0]
    assert a.document(cited.doc_id).text[cited.start:cited.end] == cited.quote
