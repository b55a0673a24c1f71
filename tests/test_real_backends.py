"""The same real answer through every backend: in-process LLM or a server, FAISS or Qdrant.

Combinations: (in-process default model, FAISS), (in-process default model, Qdrant local
mode) and (the fast model behind ``python -m llama_cpp.server`` on loopback, FAISS).
The server is started by this module with the bundled fast model and stopped after it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.core import Assistant
from assistant.errors import ModelError
from assistant.settings import Settings
from browser import free_port
from conftest import CORPUS, SCMP

pytestmark = pytest.mark.real

QUESTION = "How many H200 chips were reportedly approved, and for which companies?"
SERVER_START_SECONDS = 300


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with the fast model on a free loopback port; its URL."""
    pytest.importorskip("sse_starlette", reason="pip install -e '.[server]'")
    pytest.importorskip("starlette_context", reason="pip install -e '.[server]'")
    from assistant.models.files import resolve_model

    settings = Settings()
    try:
        model = resolve_model("fast", settings.cache_dir)
    except ModelError as exc:
        pytest.skip(f"the fast model is not installed: {exc}")
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
             "--n_threads", str(settings.threads), "--n_threads_batch", str(settings.threads)],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the LLM server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the LLM server did not start in time")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def backend_assistant(request: pytest.FixtureRequest, tmp_path: Path,
                      real_assistant: Assistant, real_embedder: object) -> Iterator[Assistant]:
    """The assistant for one combination of generation backend and vector store."""
    combination = request.param
    if combination == "inprocess-faiss":
        yield real_assistant
        return
    if combination == "inprocess-qdrant":
        from assistant.index import qdrant_store

        settings = Settings(vector_store="qdrant", qdrant_path=tmp_path / "qdrant")
        yield Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", model="default",
                             settings=settings, embedder=real_embedder,  # type: ignore[arg-type]
                             generator=real_assistant.generator)
        qdrant_store.close_all()
        return
    assert combination == "server-faiss"
    url = request.getfixturevalue("llm_server")
    settings = Settings(llm_url=url, model="fast")
    yield Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", settings=settings,
                         embedder=real_embedder)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend_assistant",
                         ["inprocess-faiss", "inprocess-qdrant", "server-faiss"],
                         indirect=True)
def test_same_answer_with_every_backend(backend_assistant: Assistant) -> None:
    a = backend_assistant
    answer = a.ask(QUESTION)
    assert not answer.refused, answer.text
    assert "400,000" in answer.text, answer.text
    for company in ("ByteDance", "Alibaba", "Tencent"):
        assert company in answer.text, answer.text
    assert SCMP in {c.doc_id for c in answer.citations}
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        assert a.lookup(c.id).text == c.quote
    if a.settings.llm_url:
        assert a.generator.name.endswith(".gguf")  # the server's model, named by the server
        assert type(a.generator).__name__ == "OpenAIChatGenerator"
    if a.settings.vector_store == "qdrant":
        assert a._retriever.index.manifest["store"] == "qdrant"
