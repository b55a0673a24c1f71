"""Corpus mode: every passage in a fixed prompt that the model reads once."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from assistant.core import Assistant, _corpus_passages
from assistant.errors import ConfigError
from assistant.settings import Settings
from conftest import SCMP, TOMS, ScriptedGenerator

Make = Callable[..., Assistant]


def _blocks(messages: list[dict[str, str]]) -> list[str]:
    return messages[-1]["content"].split("<passage n=")[1:]


def test_corpus_passages_cover_each_report_once(make_assistant: Make) -> None:
    a = make_assistant(context_mode="retrieved", chunk_tokens=60, chunk_overlap_tokens=20)
    chunks = a._retriever.index.chunks
    passages = _corpus_passages(chunks, [SCMP, TOMS])
    assert [h.rank for h in passages] == list(range(1, len(passages) + 1))
    assert [h.chunk.doc_id for h in passages] == sorted(
        (h.chunk.doc_id for h in passages), key=[SCMP, TOMS].index)
    for doc_id in (SCMP, TOMS):
        doc = a.document(doc_id)
        mine = [h.chunk for h in passages if h.chunk.doc_id == doc_id]
        for chunk in mine:
            assert doc.text[chunk.start : chunk.end] == chunk.text
        for left, right in itertools.pairwise(mine):
            assert left.end <= right.start  # overlap between chunks is cut
        # Nothing of the report is lost: the chunks' words all appear in the passages.
        assert set(" ".join(c.text for c in chunks if c.doc_id == doc_id).split()) == set(
            " ".join(c.text for c in mine).split())


@pytest.mark.parametrize(("mode", "named"), [("corpus", "every"), ("retrieved", "first")])
def test_passages_read_per_question_name_their_report_once(make_assistant: Make, mode: str,
                                                             named: str) -> None:
    a = make_assistant(context_mode=mode)
    a.ask("How many H200 units were approved, and who led the emergency meetings?")
    blocks = _blocks(a.generator.prompts[-1])  # type: ignore[attr-defined]
    outlets = [b.split('source="', 1)[1].split('"', 1)[0] for b in blocks]
    repeats = [o for o in outlets if o.startswith("as passage ")]
    full = [o for o in outlets if not o.startswith("as passage ")]
    assert len(blocks) > len(set(full))  # some report has more than one passage
    # the whole corpus, read once, names every report in full; passages read anew
    # for each question name a report on its first passage and point back to it after
    if named == "every":
        assert not repeats
    else:
        assert repeats and len(full) == len(set(full))


def test_corpus_mode_puts_every_passage_before_the_question(make_assistant: Make) -> None:
    seen: list[list[dict[str, str]]] = []

    def reply(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        n = next(i for i, b in enumerate(_blocks(messages), 1) if "400,000 units" in b)
        return f"Passage: {n}\nAnswer: More than 400,000 units were approved [{n}]."

    a = make_assistant(reply, context_mode="corpus")
    first = a.ask("How many H200 units were approved?")
    second = a.ask("Who wrote the SCMP report?")
    passages = a.corpus_prompt(a.generator)
    assert passages is not None
    assert len(_blocks(seen[0])) == len(passages)
    # The prompt up to the question is the same for both questions (the model's cache).
    prefix = [m["content"].split("Question:")[0] for m in seen[0]]
    assert prefix == [m["content"].split("Question:")[0] for m in seen[1]]
    assert not first.refused and "400,000" in first.text
    cited = first.citations[0]
    assert cited.doc_id == SCMP and "400,000 units" in cited.quote
    assert a.lookup(cited.id).text == cited.quote
    assert second.citations[0].doc_id == SCMP
    # The answer check continues the same chat, so the passages stay in the model's state.
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    assert generator.checks and generator.checks[0][: len(seen[0])] == seen[0]
    # The model read the fixed prompt ahead (how it keeps it is the backend's affair).
    warmed = generator.warmed[0]
    assert warmed[-1]["content"].split("Question:")[0] == prefix[-1]


def test_the_check_reads_the_chosen_sentence_not_the_reply_that_failed(make_assistant: Make
                                                                       ) -> None:
    """A reply that names the right passage but misstates it is replaced by its sentence.

    The answer check continues the chat: the reply it sees is that sentence, so the model
    is not shown its own wrong words to copy back as the answer.
    """
    wrong = "The H200 contributed $50 million in revenue in the October quarter."

    def reply(messages: list[dict[str, str]]) -> str:
        n = next(i for i, b in enumerate(_blocks(messages), 1) if "$50 million" in b)
        return f"Passage: {n}\nAnswer: {wrong}"

    a = make_assistant(reply, context_mode="corpus")
    answer = a.ask("How much revenue did the H20 bring in during the October quarter?")
    assert "chosen" in answer.trace and not answer.refused, answer
    assert "The H20 contributed just $50 million" in answer.text
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator) and generator.checks
    replied = generator.checks[-1][-2]
    assert replied["role"] == "assistant" and wrong not in replied["content"]
    assert "The H20 contributed just $50 million" in replied["content"]


def test_auto_mode_uses_retrieval_when_the_corpus_does_not_fit(make_assistant: Make) -> None:
    small = make_assistant(context_mode="auto", passage_token_budget=300, top_k=2)
    assert small.corpus_prompt(small.generator) is None
    fits = make_assistant(context_mode="auto")
    assert fits.corpus_prompt(fits.generator) is not None
    never = make_assistant(context_mode="retrieved")
    assert never.corpus_prompt(never.generator) is None


def test_unknown_context_mode_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="context mode"):
        Settings(context_mode="everything")


def test_model_warms_in_the_background(make_assistant: Make) -> None:
    a = make_assistant(context_mode="corpus")
    assert "first question" in a.model_status
    a.warm_in_background().join(timeout=30)
    assert a.model_status.startswith("ready: model loaded;"), a.model_status
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator) and len(generator.warmed) == 1


def test_a_model_that_fails_to_load_is_reported_not_raised(
        make_assistant: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.errors import ModelError

    a = make_assistant(context_mode="corpus")

    def broken() -> None:
        raise ModelError("the model file is damaged")

    monkeypatch.setattr(a, "_generator_factory", broken)
    a.warm_in_background().join(timeout=30)
    assert a.model_status == "the model could not be loaded: the model file is damaged"


def test_a_follow_up_with_earlier_turns_starts_like_every_question(make_assistant: Make) -> None:
    a = make_assistant(["The reports do not say."], context_mode="corpus")
    a.ask("How many H200 units were approved?")
    history = [{"role": "user", "content": "How many H200 units were approved?"},
               {"role": "assistant", "content": "More than 400,000 [3]."}]
    a.ask("Why?", history=history)  # the conversation step cannot make it stand alone
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    first, follow_up = generator.prompts[0], generator.prompts[-1]
    assert [m["role"] for m in follow_up] == ["system", "user"]
    # everything before the first question is what the model holds for every question
    held = first[1]["content"].split("Question:")[0].rstrip()
    assert follow_up[0] == first[0] and follow_up[1]["content"].startswith(held)
    assert follow_up[1]["content"].endswith(
        "Answer: More than 400,000 [3].\n\nQuestion: Why?")
