"""The served UI's API with the real assistant and model, called through gradio_client.

Slow (the default model answers in about 15 s per question on 2 cores): marked ``real``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import served

pytestmark = pytest.mark.real

TAX_QUESTION = "Which tax applies to the H200 chips re-exported to China?"

# Distinct questions, each with words that only its own answer (or its cited passages) contains.
CONCURRENT: dict[str, tuple[str, ...]] = {
    TAX_QUESTION: ("25%", "25 percent", "25 per cent"),
    "On what date did Chinese authorities convene the emergency meetings with tech firms?":
        ("December 10", "Dec. 10", "10 December"),
    "Who is Randy Abrams and how did he describe the H200 imports?":
        ("UBS", "balanced outcome"),
    "How would Chinese regulators communicate any H200 restrictions?":
        ("window guidance",),
    "Which outlet first reported that Washington was considering approving H200 sales?":
        ("Bloomberg",),
}
MIN_ANSWERED = 3  # the small model may refuse a question; most must be answered
MIN_RIGHT = 2


@pytest.fixture(scope="module")
def server(real_assistant: Any) -> Iterator[str]:
    """Serve the UI of the real assistant (conftest: fresh index, project corpus, default model).

    The server runs in Gradio's background thread on a free loopback port.
    """
    with served(real_assistant) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> Any:
    from gradio_client import Client

    return Client(server, verbose=False, download_files=False)


def _matches(result: dict[str, Any], words: tuple[str, ...]) -> bool:
    texts = [result["answer"], *(c["quote"] for c in result["citations"])]
    return any(word.lower() in text.lower() for word in words for text in texts)


def test_ask_cites_tomshardware_and_lookup_returns_the_passage(client: Any) -> None:
    result = client.predict(TAX_QUESTION, [], api_name="/ask")
    assert {"answer", "refused", "citations"} <= set(result)
    assert not result["refused"] and result["answer"].strip()
    cited = [c for c in result["citations"] if "tomshardware" in c["doc_id"]]
    assert cited, result
    citation = cited[0]
    assert f"[{citation['n']}]" in result["answer"]
    passage = client.predict(citation["id"], api_name="/lookup")
    assert passage["citation_id"] == citation["id"]
    assert passage["doc_id"] == citation["doc_id"]
    assert passage["text"] == citation["quote"]
    assert passage["outlet"] == "Tom's Hardware"


def test_api_errors_are_short(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict("not-an-id", api_name="/lookup")
    message = str(caught.value)
    assert "not a citation id" in message
    assert "Traceback" not in message and str(Path.home()) not in message
    with pytest.raises(AppError, match="please type a question"):
        client.predict("   ", [], api_name="/ask")


def test_five_concurrent_questions_get_their_own_answers(client: Any,
                                                        real_assistant: Any) -> None:
    jobs = {q: client.submit(q, [], api_name="/ask") for q in CONCURRENT}
    results = {q: job.result(timeout=900) for q, job in jobs.items()}
    assert set(results) == set(CONCURRENT)
    answered = {q: r for q, r in results.items() if not r["refused"]}
    assert len(answered) >= MIN_ANSWERED, results
    texts = [r["answer"] for r in answered.values()]
    assert len(set(texts)) == len(texts), texts
    k = real_assistant.settings.top_k
    corpus = real_assistant.corpus_prompt(real_assistant.generator)
    for question, result in answered.items():
        # Every sentence an answer cites lies inside a passage the model read for that
        # answer's own question (all passages in corpus mode, else the retrieved ones).
        read = corpus if corpus is not None else real_assistant.search(question, k=k)
        assert result["citations"], (question, result)
        for c in result["citations"]:
            assert any(h.chunk.doc_id == c["doc_id"] and h.chunk.start <= c["start"]
                       and c["end"] <= h.chunk.end for h in read), (question, c)
            assert real_assistant.lookup(c["id"]).text == c["quote"]
    # Cross-talk: decoding is greedy, so each question asked alone gets the same answer
    # as it got among the concurrent ones; an answer given to the wrong request would differ.
    for question, result in results.items():
        alone = real_assistant.ask(question).to_dict()
        assert (alone["answer"], alone["refused"]) == (result["answer"], result["refused"]), \
            (question, alone, result)
    # Answer quality is measured by `assistant eval`; here the small model may misread a
    # question, so only some answers are required to carry their own question's fact.
    right = [q for q, r in answered.items() if _matches(r, CONCURRENT[q])]
    assert len(right) >= MIN_RIGHT, results
