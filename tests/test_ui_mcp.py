"""The MCP tools of ``assistant serve --mcp``, called with the MCP Python SDK's own client.

The app is served on a free loopback port with MCP on; the client talks to it over the
transport Gradio serves (streamable HTTP at ``/gradio_api/mcp/``): it lists the four
tools and their typed inputs, gets a cited answer, looks its citation up, and sees
errors come back as tool errors with a short message. Fake embedder and scripted model;
the last test uses the real models (marked ``real``).
"""

from __future__ import annotations

import ast
import asyncio
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from browser import first_sentence_of_first_passage, scripted_assistant
from browser import served as serving
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder, ScriptedGenerator

mcp = pytest.importorskip("mcp", reason="the MCP SDK is not installed (pip install -e '.[mcp]')")
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

TOOLS = {"ask", "search", "lookup", "list_reports"}
QUESTION = "What is happening with Nvidia H200 chips and Chinese companies?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    assistant = scripted_assistant(tmp_path_factory.mktemp("mcp"),
                                   first_sentence_of_first_passage)
    with serving(assistant, mcp=True) as url:
        yield url, assistant


async def _session_calls(url: str, calls: list[tuple[str, dict[str, Any]]]
                         ) -> tuple[Any, list[Any]]:
    """List the tools, then make ``calls`` in turn; the tool list and each result."""
    async with streamablehttp_client(f"{url}gradio_api/mcp/") as (read, write, _), \
            mcp.ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        results = [await session.call_tool(name, arguments) for name, arguments in calls]
        return tools, results


def _value(result: Any) -> Any:
    """The tool's return value from its text content (the API's dict or list)."""
    assert not result.isError, result.content
    return ast.literal_eval(result.content[0].text)


def test_lists_four_typed_tools_answers_with_citations_and_looks_them_up(
        served: tuple[str, Assistant]) -> None:
    url, assistant = served
    tools, (asked, listed, searched) = asyncio.run(_session_calls(url, [
        ("ask", {"question": QUESTION, "reports": [TOMS]}),
        ("list_reports", {}),
        ("search", {"query": QUESTION, "k": 3, "reports": [SCMP]}),
    ]))
    by_name = {t.name: t for t in tools.tools}
    assert set(by_name) == TOOLS
    ask_schema = by_name["ask"].inputSchema
    assert ask_schema["required"] == ["question"]
    assert ask_schema["properties"]["question"]["type"] == "string"
    assert {"type": "array", "items": {"type": "string"}} in \
        ask_schema["properties"]["reports"]["oneOf"]
    assert by_name["search"].inputSchema["properties"]["k"]["type"] == "integer"
    assert by_name["lookup"].inputSchema["required"] == ["citation_id"]
    for tool in by_name.values():
        assert "Returns:" in (tool.description or "")

    answer = _value(asked)
    assert not answer["refused"] and answer["citations"]
    assert {c["doc_id"] for c in answer["citations"]} == {TOMS}
    assert {r["doc_id"]: r["state"] for r in _value(listed)} == {SCMP: "indexed",
                                                                  TOMS: "indexed"}
    hits = _value(searched)
    assert 1 <= len(hits) <= 3 and {h["doc_id"] for h in hits} == {SCMP}

    cited = answer["citations"][0]
    _, (looked, passage_of_hit) = asyncio.run(_session_calls(url, [
        ("lookup", {"citation_id": cited["id"]}),
        ("lookup", {"citation_id": hits[0]["id"]}),
    ]))
    passage = _value(looked)
    assert passage["text"] == cited["quote"] == assistant.lookup(cited["id"]).text
    assert passage["doc_id"] == TOMS and passage["start"] == cited["start"]
    assert _value(passage_of_hit)["text"] == hits[0]["text"]


def test_tool_errors_are_short_messages(served: tuple[str, Assistant]) -> None:
    url, _ = served
    _, results = asyncio.run(_session_calls(url, [
        ("lookup", {"citation_id": "not an id"}),
        ("ask", {"question": "   "}),
        ("ask", {"question": QUESTION, "reports": ["no-such-report"]}),
    ]))
    messages = [r.content[0].text for r in results]
    assert all(r.isError for r in results), messages
    assert "that is not a citation id" in messages[0]
    assert "please type a question" in messages[1]
    assert "there is no report 'no-such-report'" in messages[2]
    for message in messages:
        assert "Traceback" not in message and str(CORPUS) not in message


def test_no_mcp_endpoint_unless_asked_for(tmp_path: Path) -> None:
    settings = Settings.from_env(corpus_dir=CORPUS, index_dir=tmp_path / "index",
                                 cache_dir=tmp_path / "cache")
    assistant = Assistant.open(settings=settings, embedder=FakeEmbedder(),
                               generator=ScriptedGenerator(["The reports do not say."]))
    with serving(assistant, mcp=False) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/gradio_api/mcp/")
        assert conn.getresponse().status == 404
        conn.close()


@pytest.mark.real
def test_real_models_answer_and_lookup_over_mcp(real_assistant: Assistant) -> None:
    with serving(real_assistant, mcp=True) as url:
        tools, (asked,) = asyncio.run(_session_calls(url, [
            ("ask", {"question": "Which tax applies to the H200 chips re-exported to China?"}),
        ]))
        assert {t.name for t in tools.tools} == TOOLS
        answer = _value(asked)
        assert not answer["refused"] and answer["citations"], answer
        cited = answer["citations"][0]
        assert f"[{cited['n']}]" in answer["answer"]
        _, (looked,) = asyncio.run(_session_calls(url, [
            ("lookup", {"citation_id": cited["id"]})]))
        assert _value(looked)["text"] == cited["quote"]
