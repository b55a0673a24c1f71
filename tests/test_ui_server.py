"""The served app: hostile requests, uploads, errors, binding and load lose nothing.

The real app is served on a free loopback port with the fake embedder and a slow
scripted model; every case ends in a clear error or refusal, never a crash, a leaked
file or path, or another request's answer.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.index.faiss_store import MANIFEST
from assistant.ingest.documents import MAX_DOCUMENT_BYTES, load_corpus
from assistant.settings import Settings
from browser import free_port
from conftest import CORPUS, PROJECT, REPORT, TOMS, FakeEmbedder, ScriptedGenerator

SECRET = "TOP-SECRET-" + hashlib.sha256(b"issue 6").hexdigest()[:16]


EXPLODE = "EXPLODE"


def _load_sentences(limit: int = 20) -> list[str]:
    """Distinct sentences of the corpus, one per load-test question."""
    from assistant.ingest.chunking import paragraph_spans, sentence_spans

    found = []
    for doc in load_corpus(CORPUS).documents:
        for p_start, p_end in paragraph_spans(doc.text):
            for start, end in sentence_spans(doc.text, p_start, p_end):
                sentence = doc.text[start:end]
                if 12 <= len(sentence.split()) <= 45 and sentence.endswith("."):
                    found.append(sentence)
    assert len(found) >= limit
    return found[:limit]


class SlowEchoGenerator(ScriptedGenerator):
    """Answers "case N: ..." with sentence N, cited to its passage, a few ms per token."""

    def __init__(self, sentences: list[str], per_token_s: float = 0.003) -> None:
        super().__init__(self._reply)
        self.sentences = sentences
        self.per_token_s = per_token_s

    def _reply(self, messages: list[dict[str, str]]) -> str:
        user = messages[-1]["content"]
        question = user.rsplit("Question:", 1)[-1]
        if EXPLODE in question:
            raise RuntimeError("llama.cpp failed reading /very/secret/place/model.gguf")
        case = re.search(r"case (\d+):", question)
        if case is None:
            return "Passage: none\nAnswer: The reports do not say."
        sentence = self.sentences[int(case.group(1))]
        for n, block in enumerate(user.split("<passage n=")[1:], start=1):
            if sentence in block:
                return f"Passage: {n}\nAnswer: {sentence[:-1]} [{n}]."
        return "Passage: none\nAnswer: The reports do not say."

    def stream(self, messages: list[dict[str, str]], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        for piece in super().stream(messages, max_tokens, prefix):
            time.sleep(self.per_token_s)
            yield piece


def _question(i: int, sentence: str) -> str:
    return f"case {i}: {' '.join(sentence.split()[:10])}?"


class Live:
    """A served app and what the tests need to know about it."""

    def __init__(self, root: Path, assistant: Assistant, generator: SlowEchoGenerator,
                 port: int, demo: Any) -> None:
        self.root = root
        self.assistant = assistant
        self.generator = generator
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.demo = demo

    def get(self, target: str) -> tuple[int, bytes]:
        """GET ``target`` exactly as written (no client-side normalisation of the path)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest("GET", target, skip_accept_encoding=True)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real app over a copy of the corpus, fake embedder, slow scripted model."""
    from ui.app import launch

    root = tmp_path_factory.mktemp("live")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (root / "secret.txt").write_text(SECRET)
    cfg = Settings(corpus_dir=corpus, index_dir=root / "index", cache_dir=root / "cache",
                   min_relevance=0.1, context_mode="retrieved")
    generator = SlowEchoGenerator(_load_sentences())
    assistant = Assistant.open(settings=cfg, embedder=FakeEmbedder(), generator=generator)
    port = free_port()
    demo = launch(assistant, port=port, block=False)  # the default host
    try:
        yield Live(root, assistant, generator, port, demo)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(live: Live) -> Any:
    from gradio_client import Client

    return Client(live.url, verbose=False, download_files=False)


def _upload(live: Live, name: str, data: bytes) -> tuple[int, Any]:
    import httpx

    response = httpx.post(f"{live.url}gradio_api/upload", files={"files": (name, data)},
                          timeout=60)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def _traversal_targets(live: Live, served: str) -> list[tuple[str, bytes]]:
    """Files the app must never serve, each with bytes that would show it leaked."""
    manifest = live.root / "index" / MANIFEST
    report = live.root / "corpus" / f"{TOMS}.txt"
    return [(str(live.root / "secret.txt"), SECRET.encode()),
            ("/etc/passwd", b"root:x:0:0"),
            (str(report), b"window guidance"),
            (str(manifest), b'"generation"'),
            (str(PROJECT / "pyproject.toml"), b"[build-system]"),
            (str(Path(served).parent / ".." / "secret.txt"), SECRET.encode())]


def _variants(path: str, served: str) -> list[str]:
    from urllib.parse import quote

    rel = path.lstrip("/")
    up = "../" * 12
    served_dir = str(Path(served).parent)
    file_forms = [
        path, quote(path, safe=""), quote(quote(path, safe=""), safe=""),
        up + rel, "..%2F" * 12 + quote(rel, safe=""), "%2e%2e/" * 12 + rel,
        "%252e%252e%252f" * 12 + rel, "..\\" * 12 + rel.replace("/", "\\"),
        "....//" * 12 + rel, f"{served_dir}/{up}{rel}", f"{served_dir}/..%2F..%2F..%2F{rel}",
        path.upper(), path.title(), f"{path}%00.png", f"file://{path}", f"file:{path}",
        f"/{path}", f"{path}/.",
    ]
    routes = []
    for form in file_forms:
        routes += [f"/gradio_api/file={form}", f"/file={form}", f"/gradio_api/file/{form}"]
    routes += [f"/static/{up}{rel}", f"/static/{'..%2F' * 12}{rel}", f"/assets/{up}{rel}",
               f"/assets/{'%2e%2e%2f' * 12}{rel}", f"/svelte/{'..%2f' * 12}{rel}",
               f"/gradio_api/proxy=file://{path}", f"/gradio_api/proxy={quote(path)}",
               f"/custom_component/x/client/{'..%2f' * 6}/{quote(rel, safe='')}",
               f"/favicon.ico/{up}{rel}", f"/{up}{rel}", f"/gradio_api/{up}{rel}"]
    return routes


def test_path_traversal_never_leaks_a_file(live: Live) -> None:
    status, body = _upload(live, "served.txt", b"an uploaded file the app may serve")
    assert status == 200, body
    served = body[0]
    ok, data = live.get(f"/gradio_api/file={served}")
    assert ok == 200 and data == b"an uploaded file the app may serve"  # the route works
    leaks: list[str] = []
    tried = 0
    for path, marker in _traversal_targets(live, served):
        for target in _variants(path, served):
            tried += 1
            try:
                status, data = live.get(target)
            except (http.client.HTTPException, OSError) as exc:  # refused outright: fine
                status, data = 400, str(exc).encode()
            if marker in data or b"Traceback" in data:
                leaks.append(f"{status} {target}")
            assert status != 500, target
    assert tried > 300 and leaks == []


def test_hostile_upload_names_stay_in_their_folders(live: Live) -> None:
    from gradio import utils as gradio_utils

    from ui.handlers import Handlers

    upload_dir = Path(gradio_utils.get_upload_folder()).resolve()
    outside = live.root / "evil-outside.txt"
    names = [f"../../../../../../{outside}", f"..%2F..%2F{outside.name}", f"/{outside}",
             "..\\..\\evil.txt", "ev\x00il.txt", "CON.txt", ".hidden.txt", "a" * 300 + ".txt",
             "<script>alert(1)</script>.txt"]
    corpus = live.assistant.settings.corpus_dir
    before = {p.name for p in corpus.iterdir()}
    handlers = Handlers(live.assistant)
    added = []
    for i, name in enumerate(names):
        text = REPORT.replace("Monday", f"day {i}").encode()
        status, body = _upload(live, name, text)
        assert status == 200, (name, body)
        stored = Path(body[0]).resolve()
        assert stored.is_relative_to(upload_dir), stored  # Gradio keeps it in its cache
        message, *_ = handlers.upload(str(stored), False, lambda *a, **k: None)
        if "notice-info" in message:
            added.append(message)
        assert "Traceback" not in message and str(live.root) not in message
    assert not outside.exists()
    new = {p.name for p in corpus.iterdir()} - before
    assert new and all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.txt", n) for n in new)
    assert len(new) == len(added)
    for name in new:  # leave the module's corpus as it was
        (corpus / name).unlink()
    live.assistant.reindex()


def test_upload_over_the_size_limit_is_refused(live: Live) -> None:
    from gradio import utils as gradio_utils

    upload_dir = Path(gradio_utils.get_upload_folder())
    before = set(upload_dir.rglob("*")) if upload_dir.exists() else set()
    status, body = _upload(live, "huge.txt", b"a" * (MAX_DOCUMENT_BYTES + 1))
    assert status == 413, body
    assert "maximum allowed size of 20971520 bytes" in str(body)
    after = set(upload_dir.rglob("*")) if upload_dir.exists() else set()
    assert not [p for p in after - before if p.name == "huge.txt"]


def test_errors_reach_clients_without_paths_or_tracebacks(live: Live, client: Any) -> None:
    from gradio_client.exceptions import AppError

    from ui.handlers import GENERIC_ERROR

    for question, expected in [(f"{EXPLODE} which tax applies to the H200 chips?",
                                GENERIC_ERROR),
                               ("x" * 5000, "the question is too long"),
                               ("   ", "please type a question")]:
        with pytest.raises(AppError) as caught:
            client.predict(question, [], api_name="/ask")
        message = str(caught.value)
        assert expected in message
        for leak in ("/very/secret", "Traceback", str(live.root), str(PROJECT), "File \""):
            assert leak not in message
    with pytest.raises(AppError) as caught:
        client.predict(f"{live.root}/nothing:0-5:00000000", api_name="/lookup")
    assert "Traceback" not in str(caught.value)
    for target in ("/no/such/page", "/gradio_api/info/x", "/gradio_api/queue/data?x=%ff"):
        _, data = live.get(target)
        assert b"Traceback" not in data and str(PROJECT).encode() not in data


def test_server_binds_to_loopback_unless_told_otherwise(live: Live) -> None:
    import inspect

    from ui import cli as ui_cli
    from ui.app import launch

    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
    assert ui_cli.DEFAULT_HOST == "127.0.0.1"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if int(port, 16) == live.port and state == "0A":  # LISTEN
                listening.append(address)
    assert listening == ["0100007F"], listening  # 127.0.0.1 only
    from assistant.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert build_parser().parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_concurrent_questions_get_their_own_answers(live: Live, client: Any) -> None:
    from gradio_client.exceptions import AppError

    sentences = live.generator.sentences
    assistant = live.assistant
    in_flight = 0
    peak = 0
    counter = threading.Lock()
    original = assistant.ask_stream

    def counted(question: str, history: Any = None, **scope: Any) -> Iterator[Any]:
        nonlocal in_flight, peak
        with counter:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            yield from original(question, history, **scope)
        finally:
            with counter:
                in_flight -= 1

    assistant.ask_stream = counted  # type: ignore[method-assign]
    rss_before = _rss_mb()
    try:
        jobs = {i: client.submit(_question(i, s), [], api_name="/ask")
                for i, s in enumerate(sentences)}
        direct: dict[int, Any] = {}

        def ask_directly(i: int) -> None:
            direct[i] = assistant.ask(_question(i, sentences[i]))

        threads = [threading.Thread(target=ask_directly, args=(i,)) for i in range(0, 20, 3)]
        searches: list[float] = []

        def search_meanwhile() -> None:
            for _ in range(20):
                started = time.perf_counter()
                assistant.search("window guidance", k=3)
                searches.append(time.perf_counter() - started)

        threads.append(threading.Thread(target=search_meanwhile))
        for thread in threads:
            thread.start()
        results: dict[int, Any] = {}
        for i, job in jobs.items():
            try:
                results[i] = job.result(timeout=120)
            except AppError as exc:  # the only acceptable failure: a clear "busy" message
                assert re.search(r"queue is full|busy|wait", str(exc), re.I), exc
                results[i] = None
        for thread in threads:
            thread.join(timeout=120)
    finally:
        assistant.ask_stream = original  # type: ignore[method-assign]
    assert peak >= 2  # requests really overlapped
    answered = {i: r for i, r in results.items() if r is not None}
    assert len(answered) == 20  # the queue holds 64: nobody had to be turned away
    everyone = [*((i, r["answer"], [c["quote"] for c in r["citations"]])
                  for i, r in answered.items()),
                *((i, a.text, [c.quote for c in a.citations]) for i, a in direct.items())]
    assert len(direct) == 7
    prefixes = [" ".join(s.split()[:6]) for s in sentences]
    for i, text, quotes in everyone:
        assert prefixes[i] in text, (i, text)  # its own answer ...
        assert [j for j, p in enumerate(prefixes) if p in text] == [i]  # ... and no other's
        assert quotes and all(sentences[i][:-1] in q or q in sentences[i] for q in quotes)
    assert searches and max(searches) < 5
    assert _rss_mb() - rss_before < 200  # memory stays bounded


def test_overflowing_queue_says_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_client import Client

    import ui.app

    monkeypatch.setattr(ui.app, "QUEUE_SIZE", 2)
    sentences = _load_sentences(8)
    generator = SlowEchoGenerator(sentences, per_token_s=0.01)
    cfg = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache",
                   min_relevance=0.1, context_mode="retrieved")
    assistant = Assistant.open(settings=cfg, embedder=FakeEmbedder(), generator=generator)
    port = free_port()
    demo = ui.app.launch(assistant, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        jobs = [client.submit(_question(i, s), [], api_name="/ask")
                for i, s in enumerate(sentences)]
        answered, busy = 0, []
        for i, job in enumerate(jobs):
            try:
                result = job.result(timeout=120)
            except Exception as exc:
                busy.append(str(exc))
                continue
            assert " ".join(sentences[i].split()[:6]) in result["answer"]
            answered += 1
    finally:
        demo.close()
    assert answered >= 1 and busy
    assert all(re.search(r"queue is full", message, re.I) for message in busy), busy
