"""Generation through an OpenAI-compatible chat-completions server.

Works with llama.cpp's ``llama-server``, llama-cpp-python's ``python -m llama_cpp.server``
and vLLM: replies stream as server-sent events (``stream: true``), sampling is
greedy (temperature 0, top-k 1, no repeat penalty, a fixed seed), so a server
running the same GGUF gives the answers the in-process model gives.

Tokens are counted by the server's own tokenizer where it has an endpoint for
that (``/extras/tokenize`` of llama_cpp.server, ``/tokenize`` of llama-server and
vLLM), else estimated on the high side. The server keeps prompt caches itself
(llama.cpp servers reuse the longest common prefix), so :meth:`warm` only sends
a one-token request when the prompt to hold changes.

Every failure (no server, wrong API key, server errors, timeouts) is a
:class:`ModelError` naming the server's URL; the API key never appears in a message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from assistant.errors import ModelError
from assistant.models.generation import Message
from assistant.settings import Settings

logger = logging.getLogger(__name__)

# Tokenize endpoints, tried in order: llama_cpp.server, then llama-server and vLLM
# (one request body carries the field names of both).
_TOKENIZE_PATHS = ("/extras/tokenize", "/tokenize")
_COUNT_CACHE = 8192  # texts whose token counts are remembered (passages are counted often)
_ESTIMATE = re.compile(r"\d|[^\W\d_]+|[^\w\s]|_")
_CONNECT_SECONDS = 10.0


def estimate_tokens(text: str) -> int:
    """A count at or above what common BPE tokenizers give for ``text``.

    Every digit and punctuation mark counts as one token and every word as one
    token per three letters (rounded up), plus one per line break.
    """
    total = text.count("\n")
    for piece in _ESTIMATE.findall(text):
        total += math.ceil(len(piece) / 3) if piece[0].isalpha() else 1
    return total


def display_url(url: str) -> str:
    """``url`` without user name, password, query or fragment, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class OpenAIChatGenerator:
    """A chat model behind an OpenAI-compatible HTTP server (satisfies ``Generator``).

    ``url`` is the server's base URL, with or without a trailing ``/v1``
    (``http://127.0.0.1:8080`` and ``http://127.0.0.1:8080/v1`` are the same).
    ``model`` is the name sent with each request; by default the first model the
    server lists under ``/v1/models``. ``context_tokens`` must not exceed the
    context the server was started with.
    """

    def __init__(self, url: str, *, api_key: str = "", model: str = "",
                 context_tokens: int = 4096, temperature: float = 0.0, seed: int = 7,
                 timeout: float = 600.0, transport: httpx.BaseTransport | None = None) -> None:
        root = url.strip().rstrip("/")
        root = root.removesuffix("/v1")
        self._root = root
        self.url = display_url(root)
        self._api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        loopback = urlsplit(root).hostname in ("127.0.0.1", "localhost", "::1")
        self._client = httpx.Client(  # proxies from the environment, except for loopback
            base_url=root, headers=headers, transport=transport, trust_env=not loopback,
            timeout=httpx.Timeout(timeout, connect=min(timeout, _CONNECT_SECONDS)))
        self.context_tokens = context_tokens
        self.lock = threading.Lock()
        self.last_stats: dict[str, float] = {}
        self._temperature = temperature
        self._seed = seed
        self._tokenize_path: str | None = None  # "" once no endpoint was found
        self._counts: dict[str, int] = {}
        self._warmed = ""
        self.model = model or self._first_model()
        self.name = self.model

    # ------------------------------------------------------------------ HTTP
    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _fail(self, what: str) -> ModelError:
        message = f"the language model server at {self.url} {what}"
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return ModelError(message)

    def _transport_error(self, exc: httpx.HTTPError) -> ModelError:
        if isinstance(exc, httpx.TimeoutException):
            return self._fail(f"did not answer within {self._timeout:g} s")
        if isinstance(exc, httpx.ConnectError):
            return self._fail("could not be reached (is it running, and is the URL right?)")
        return self._fail(f"could not be read from ({type(exc).__name__})")

    def _status_error(self, response: httpx.Response) -> ModelError:
        code = response.status_code
        if code in (401, 403):
            return self._fail(f"refused the request (HTTP {code}): check the API key "
                              "(ASSISTANT_LLM_API_KEY)")
        detail = _error_detail(response)
        kind = "failed" if code >= 500 else "rejected the request"
        return self._fail(f"{kind} (HTTP {code}{': ' + detail if detail else ''})")

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST ``body`` as JSON; transport failures and 401/403/5xx raise ModelError."""
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code in (401, 403) or response.status_code >= 500:
            raise self._status_error(response)
        return response

    def _first_model(self) -> str:
        """The first model the server lists; ``"default"`` when it lists none."""
        try:
            response = self._client.get("/v1/models")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code in (401, 403) or response.status_code >= 500:
            raise self._status_error(response)
        try:
            data = response.json()["data"]
            return str(data[0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return "default"

    # ---------------------------------------------------------------- tokens
    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the server's tokenizer (or a high estimate without one)."""
        cached = self._counts.get(text)
        if cached is not None:
            return cached
        count = self._server_count(text)
        if count is None:
            count = estimate_tokens(text)
        if len(self._counts) >= _COUNT_CACHE:
            self._counts.clear()
        self._counts[text] = count
        return count

    def _server_count(self, text: str) -> int | None:
        if self._tokenize_path == "":
            return None
        body = {"input": text, "content": text, "prompt": text, "model": self.model,
                "add_special": False, "add_special_tokens": False}
        paths = (self._tokenize_path,) if self._tokenize_path else _TOKENIZE_PATHS
        for path in paths:
            response = self._post(path, body)
            if response.status_code != 200:
                continue
            try:
                tokens = response.json()["tokens"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(tokens, list):
                self._tokenize_path = path
                return len(tokens)
        if self._tokenize_path is None:  # still looking: this server has no such endpoint
            logger.warning("the language model server at %s has no tokenize endpoint; "
                           "token counts are estimated", self.url)
            self._tokenize_path = ""
        return None  # a failure of a known endpoint: only this text is estimated

    # ------------------------------------------------------------ generation
    def _body(self, messages: list[Message], max_tokens: int, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model, "messages": messages, "max_tokens": max_tokens,
            "stream": stream, "temperature": self._temperature, "top_p": 1.0, "top_k": 1,
            "repeat_penalty": 1.0, "seed": self._seed, "cache_prompt": True,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def stream(self, messages: list[Message], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        """Stream the reply to ``messages`` from the server, piece by piece.

        :attr:`last_stats` is filled when the reply ends, from the server's
        ``usage`` (and llama-server's ``timings``) where it sends them. A reply is not
        continued after a ``prefix``: the chat API has no standard way to ask for it,
        so nothing is streamed then.
        """
        self.last_stats = {}
        if prefix:
            return
        body = self._body(messages, max_tokens, stream=True)
        try:
            with self._client.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._status_error(response)
                for line in response.iter_lines():
                    data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
                    if not data:
                        continue
                    if data == "[DONE]":
                        break
                    chunk = self._parse_chunk(data)
                    self._record_stats(chunk)
                    for choice in chunk.get("choices") or ():
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            yield str(delta)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self._fail("sent a reply that is not JSON") from None
        if not isinstance(chunk, dict):
            raise self._fail("sent a reply of an unknown shape")
        error = chunk.get("error")
        if error:
            detail = error.get("message", "") if isinstance(error, dict) else str(error)
            raise self._fail(f"failed while answering ({str(detail)[:200]})")
        return chunk

    def _record_stats(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
            self.last_stats["prompt_tokens"] = float(usage["prompt_tokens"])
            details = usage.get("prompt_tokens_details")
            if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
                self.last_stats["reused_tokens"] = float(details["cached_tokens"])
        timings = chunk.get("timings")  # llama-server: cache_n reused, prompt_n computed
        if isinstance(timings, dict) and isinstance(timings.get("cache_n"), int):
            cached, computed = int(timings["cache_n"]), int(timings.get("prompt_n") or 0)
            self.last_stats.update(prompt_tokens=float(cached + computed),
                                   reused_tokens=float(cached))

    def score(self, messages: list[Message], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        """Log-probabilities of the options as the reply's first token, from the server.

        Read from the server's ``top_logprobs`` of the first token (each option's
        spellings compared without surrounding spaces); an option not among them
        gets ``-inf``. ``None`` when the server sends no log-probabilities or no
        option is among them.
        """
        body = dict(self._body(messages, 1, stream=False), logprobs=True, top_logprobs=20)
        response = self._post("/v1/chat/completions", body)
        if response.status_code != 200:
            raise self._status_error(response)
        try:
            top = response.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            ranked = [(str(t["token"]).strip(), float(t["logprob"])) for t in top]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        totals = [sum(math.exp(lp) for token, lp in ranked
                      if token in {spelling.strip() for spelling in option})
                  for option in options]
        if not any(totals):
            return None
        return [math.log(p) if p > 0 else float("-inf") for p in totals]

    def prepare(self, messages: list[Message]) -> str:
        """Have the server read ``messages`` once (a one-token reply), so its cache holds them.

        The server keeps its own cache. Returns ``"unchanged"`` when these messages
        were the last ones prepared, else ``"remote"``.
        """
        key = hashlib.sha256(json.dumps(messages).encode()).hexdigest()
        if key == self._warmed:
            return "unchanged"
        response = self._post("/v1/chat/completions", self._body(messages, 1, stream=False))
        if response.status_code != 200:
            raise self._status_error(response)
        self._warmed = key
        return "remote"

def _error_detail(response: httpx.Response) -> str:
    """The server's error message, short, or ""."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", ""))
        if isinstance(error, dict):
            error = error.get("message", "")
        return str(error)[:200]
    return ""


def from_settings(settings: Settings) -> OpenAIChatGenerator:
    """The generator for ``settings.llm_url`` (its API key, model name and timeout)."""
    return OpenAIChatGenerator(settings.llm_url, api_key=settings.llm_api_key,
                               model=settings.llm_model,
                               context_tokens=settings.context_tokens,
                               temperature=settings.temperature, seed=settings.seed,
                               timeout=settings.llm_timeout)
