"""The OpenAI-compatible generation backend against a scripted HTTP server (no model)."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from assistant import core
from assistant.answer.draft import EXTRACT_PROMPT, EXTRACT_REQUEST
from assistant.errors import ModelError
from assistant.models.openai_backend import OpenAIChatGenerator, display_url, estimate_tokens
from assistant.settings import Settings
from conftest import CORPUS, SCMP, FakeEmbedder

KEY = "sk-very-secret-key"
Handler = Callable[[httpx.Request], httpx.Response]


def sse(*chunks: dict[str, object]) -> bytes:
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def delta(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


class Server:
    """A scripted OpenAI-compatible server: records requests, answers from ``routes``."""

    def __init__(self, routes: dict[str, Handler] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[str, Handler] = {
            "/v1/models": lambda r: httpx.Response(200, json={"data": [{"id": "qwen-fast"}]}),
            "/extras/tokenize": lambda r: httpx.Response(
                200, json={"tokens": list(range(len(json.loads(r.content)["input"].split())))}),
            "/v1/chat/completions": self.chat,
            **(routes or {}),
        }

    def chat(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if not body["stream"]:
            return httpx.Response(200, json={"choices": [{"message": {"content": "x"}}]})
        return httpx.Response(200, content=sse(delta("Passage: 1\n"), delta("Answer: yes [1]."),
                                               {"choices": [], "usage": {
                                                   "prompt_tokens": 120, "completion_tokens": 5,
                                                   "prompt_tokens_details": {
                                                       "cached_tokens": 100}}}),
                              headers={"content-type": "text/event-stream"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else httpx.Response(404, json={"detail": "nope"})

    def generator(self, url: str = "http://127.0.0.1:9/v1", **kwargs: object) -> (
            OpenAIChatGenerator):
        return OpenAIChatGenerator(url, transport=httpx.MockTransport(self), **kwargs)  # type: ignore[arg-type]


def test_a_reply_is_not_continued_after_a_prefix() -> None:
    """The chat API has no standard way to continue a reply: nothing is asked or streamed."""
    server = Server()
    gen = server.generator(api_key=KEY)
    before = len(server.requests)
    assert list(gen.stream([{"role": "user", "content": "hi"}], 64,
                           prefix="Passage: 1\nAnswer:")) == []
    assert len(server.requests) == before


def test_streams_a_reply_with_greedy_settings_and_usage() -> None:
    server = Server()
    gen = server.generator(api_key=KEY, seed=11)
    assert gen.name == "qwen-fast"  # the server's first listed model
    pieces = list(gen.stream([{"role": "user", "content": "hi"}], 64))
    assert pieces == ["Passage: 1\n", "Answer: yes [1]."]
    assert gen.last_stats == {"prompt_tokens": 120.0, "reused_tokens": 100.0}
    chat = next(r for r in server.requests if r.url.path == "/v1/chat/completions")
    body = json.loads(chat.content)
    assert body["stream"] is True and body["max_tokens"] == 64 and body["model"] == "qwen-fast"
    assert body["temperature"] == 0.0 and body["top_k"] == 1 and body["seed"] == 11
    assert body["repeat_penalty"] == 1.0 and body["cache_prompt"] is True
    assert chat.headers["authorization"] == f"Bearer {KEY}"


def test_llama_server_timings_give_the_reused_tokens() -> None:
    def chat(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(delta("ok"), {
            "choices": [{"delta": {}, "finish_reason": "stop"}],
            "timings": {"cache_n": 900, "prompt_n": 30}}))

    gen = Server({"/v1/chat/completions": chat}).generator(model="m")
    assert "".join(gen.stream([{"role": "user", "content": "q"}], 8)) == "ok"
    assert gen.last_stats == {"prompt_tokens": 930.0, "reused_tokens": 900.0}


def test_counts_tokens_with_the_servers_tokenizer_and_caches_them() -> None:
    server = Server()
    gen = server.generator()
    assert gen.count_tokens("one two three") == 3
    assert gen.count_tokens("one two three") == 3
    assert sum(r.url.path == "/extras/tokenize" for r in server.requests) == 1


def test_falls_back_to_llama_server_tokenize_then_to_an_estimate() -> None:
    def llama_server(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["add_special"] is False
        return httpx.Response(200, json={"tokens": [1] * len(body["content"])})

    server = Server({"/extras/tokenize": lambda r: httpx.Response(404),
                     "/tokenize": llama_server})
    gen = server.generator()
    assert gen.count_tokens("abcd") == 4 and gen.count_tokens("ab") == 2
    assert sum(r.url.path == "/extras/tokenize" for r in server.requests) == 1  # remembered

    bare = Server({"/extras/tokenize": lambda r: httpx.Response(404)}).generator()
    text = "More than 400,000 H200 chips were approved for ByteDance."
    assert bare.count_tokens(text) == estimate_tokens(text) >= 20


def test_estimate_is_not_below_a_real_tokenizer() -> None:
    tiktoken = pytest.importorskip("tiktoken")
    from assistant.ingest.chunking import count_tokens

    del tiktoken
    text = (CORPUS / f"{SCMP}.txt").read_text(encoding="utf-8")
    assert estimate_tokens(text) >= count_tokens(text)


def test_prepare_sends_one_token_once_per_prompt() -> None:
    server = Server()
    gen = server.generator()
    messages = [{"role": "system", "content": "passages"}, {"role": "user", "content": ""}]
    assert gen.prepare(messages) == "remote"
    assert gen.prepare(messages) == "unchanged"
    chats = [json.loads(r.content) for r in server.requests
             if r.url.path == "/v1/chat/completions"]
    assert len(chats) == 1 and chats[0]["max_tokens"] == 1 and chats[0]["stream"] is False


def test_a_wrong_api_key_is_a_clear_error_without_the_key() -> None:
    server = Server({"/v1/models": lambda r: httpx.Response(
        401, json={"error": {"message": f"Invalid API key {KEY}"}})})
    with pytest.raises(ModelError) as info:
        server.generator("http://user:pw@127.0.0.1:9/v1", api_key=KEY)
    message = str(info.value)
    assert "http://127.0.0.1:9" in message and "401" in message and "API key" in message
    assert KEY not in message and "pw" not in message


def test_server_errors_and_timeouts_are_model_errors() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "out of memory"}})

    gen = Server({"/v1/chat/completions": broken}).generator(model="m")
    with pytest.raises(ModelError, match=r"127\.0\.0\.1:9 failed \(HTTP 500: out of memory\)"):
        list(gen.stream([{"role": "user", "content": "q"}], 8))

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    gen = Server({"/v1/chat/completions": slow}).generator(model="m", timeout=5)
    with pytest.raises(ModelError, match="did not answer within 5 s"):
        list(gen.stream([{"role": "user", "content": "q"}], 8))

    def error_event(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(delta("par"), {"error": {"message": "boom"}}))

    gen = Server({"/v1/chat/completions": error_event}).generator(model="m")
    with pytest.raises(ModelError, match="failed while answering"):
        list(gen.stream([{"role": "user", "content": "q"}], 8))


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelError, match=f"127.0.0.1:{port} could not be reached"):
        OpenAIChatGenerator(f"http://127.0.0.1:{port}", api_key=KEY, timeout=5)


def test_display_url_drops_credentials_and_query() -> None:
    assert display_url("https://me:secret@llm.example:8443/v1?key=abc") == (
        "https://llm.example:8443/v1")


def test_settings_choose_the_server_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", KEY)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "served-name")
    settings = Settings.from_env()
    assert settings.llm_url == "http://127.0.0.1:9/v1" and settings.llm_model == "served-name"
    assert KEY not in repr(settings)
    made: dict[str, object] = {}

    class Recorder:
        def __init__(self, url: str, **kwargs: object) -> None:
            made.update(kwargs, url=url)

    monkeypatch.setattr("assistant.models.openai_backend.OpenAIChatGenerator", Recorder)
    core._default_generator(settings)
    assert made["url"] == "http://127.0.0.1:9/v1" and made["api_key"] == KEY
    assert made["model"] == "served-name" and made["context_tokens"] == 4096


def test_cli_flag_sets_the_server_url() -> None:
    from assistant.cli import build_parser

    args = build_parser().parse_args(["ask", "q", "--llm-url", "http://127.0.0.1:8080"])
    assert Settings.from_args(args).llm_url == "http://127.0.0.1:8080"


def test_assistant_answers_through_the_server_backend(tmp_path: Path) -> None:
    """The whole pipeline with the HTTP backend: passages in, a verified cited answer out."""

    def chat(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        last = messages[-1]["content"]
        if messages[0]["content"] == EXTRACT_PROMPT or last.startswith(EXTRACT_REQUEST):
            # The answer check: copy the supporting sentences (a confirmation).
            sentences = last.removeprefix(EXTRACT_REQUEST).strip().split("\n\nQuestion:")[0]
            return httpx.Response(200, content=sse(delta(sentences.removeprefix("Sentences: "))))
        if "<passage n=" not in last:  # the instructions read ahead of time (warming)
            return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})
        n = next(i for i, b in enumerate(last.split("<passage n=")[1:], 1) if "400,000" in b)
        reply = f"Passage: {n}\nAnswer: More than 400,000 units were approved [{n}]."
        return httpx.Response(200, content=sse(*(delta(w) for w in re.findall(r"\S+\s*", reply))))

    server = Server({"/v1/chat/completions": chat})
    from assistant.core import Assistant

    gen = server.generator(model="m")
    a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index",
                       embedder=FakeEmbedder(), generator=gen)  # type: ignore[arg-type]
    answer = a.ask("How many H200 units were approved?")
    assert not answer.refused and "400,000" in answer.text, answer.text
    assert SCMP in {c.doc_id for c in answer.citations}


def test_one_failed_tokenize_call_estimates_that_text_only() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            return httpx.Response(200, content=b"not json")  # a garbled reply
        return httpx.Response(200, json={"tokens": [1] * len(json.loads(request.content)["input"])})

    gen = Server({"/extras/tokenize": flaky}).generator()
    assert gen.count_tokens("abcd") == 4
    text = "More than 400,000 H200 chips were approved for ByteDance."
    assert gen.count_tokens(text) == estimate_tokens(text)  # the failed call
    assert gen.count_tokens("abcdef") == 6  # the endpoint is still used afterwards


def test_scores_from_the_servers_logprobs() -> None:
    import math

    def chat(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["logprobs"] is True and body["max_tokens"] == 1 and not body["stream"]
        top = [{"token": "Yes", "logprob": math.log(0.6)},
               {"token": " no", "logprob": math.log(0.2)},
               {"token": "Maybe", "logprob": math.log(0.1)}]
        first = {"token": "Yes", "top_logprobs": top}
        return httpx.Response(200, json={"choices": [{"message": {"content": "Yes"},
                                                      "logprobs": {"content": [first]}}]})

    from assistant.answer.draft import yes_probability

    gen = Server({"/v1/chat/completions": chat}).generator()
    asked = [{"role": "user", "content": "Does it answer?"}]
    scores = gen.score(asked, [("yes", "Yes"), ("no", "No"), ("perhaps",)])
    assert scores is not None
    assert [round(math.exp(s), 9) for s in scores[:2]] == [0.6, 0.2] and scores[2] == -math.inf
    p = yes_probability(gen, asked)
    assert p is not None and abs(p - 0.75) < 1e-9
    # a server that sends no log-probabilities: no probability, not an error
    plain = Server().generator()
    assert plain.score(asked, [("yes",), ("no",)]) is None
    assert yes_probability(plain, asked) is None
