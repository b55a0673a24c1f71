"""The assistant command: ask, cite, index and its flags (fake embedder, scripted model)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import cli, core
from assistant.errors import ConfigError
from assistant.settings import Settings
from conftest import PROJECT, SCMP, FakeEmbedder, ScriptedGenerator


def script_models(monkeypatch: pytest.MonkeyPatch, reply: str) -> None:
    """The CLI's assistant gets the fake embedder and a model that always says ``reply``."""
    monkeypatch.setattr(core, "_default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr(core, "_default_generator",
                        lambda settings: ScriptedGenerator([reply]))


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    script_models(monkeypatch,
                  "More than 400,000 units were approved for ByteDance, Alibaba and Tencent.")


def test_cli_ask_json_then_cite_in_a_new_session(fake_models: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--json", "How many units were approved?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"answer", "refused", "citations", "unsupported", "other_reports"}
    assert data["refused"] is False and "400,000" in data["answer"]
    cite = data["citations"][0]
    assert set(cite) == {"n", "id", "doc_id", "title", "start", "end", "quote",
                         "passage_start", "passage_end", "page"}
    assert cite["doc_id"] == SCMP
    # The quote is the supporting sentence, inside the retrieved passage.
    assert cite["quote"].startswith("The approval covered more than 400,000 units")
    assert cite["passage_start"] <= cite["start"] < cite["end"] <= cite["passage_end"]
    assert cli.main(["cite", cite["id"]]) == 0
    out = capsys.readouterr().out
    assert cite["quote"] in out and "South China Morning Post" in out
    assert cli.main(["cite", "--json", cite["id"]]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == cite["quote"]


def test_cli_refusal_offers_the_closest_passages(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    script_models(monkeypatch, "Passage: none")
    assert cli.main(["ask", "--json", "How many units were approved?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["refused"] is True and data["citations"] == []
    assert 1 <= len(data["closest"]) <= 3
    assert cli.main(["cite", "--json", data["closest"][0]["id"]]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == data["closest"][0]["quote"]
    assert cli.main(["ask", "How many units were approved?"]) == 0
    out = capsys.readouterr().out
    assert "the reports do not contain the answer; the closest passages:" in out
    assert "id: " in out


def test_cli_shows_what_the_verifier_kept(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    script_models(monkeypatch, "More than 400,000 units were approved for ByteDance, Alibaba "
                               "and Tencent. Martians bought the rest of the chips.")
    assert cli.main(["ask", "How many units were approved?"]) == 0
    out = capsys.readouterr().out
    # Only the checked answer is printed, once: nothing shown is taken back.
    assert out.startswith("More than 400,000 units")  # the figure leads
    assert out.count("More than 400,000 units") == 1 and "Checked answer" not in out
    answer_part = out.split("(left out:")[0]
    assert "Martians" not in answer_part
    assert "(left out: Martians bought the rest of the chips. — " in out


def test_cli_quotes_the_other_reports_on_the_question(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    script_models(monkeypatch, "Beijing has begun approving imports of Nvidia's H200.")
    monkeypatch.setenv("ASSISTANT_EXTRACTIVE_THRESHOLD", "0.8")  # the fake embedder's scale
    question = "Has Beijing begun approving imports of the H200?"
    assert cli.main(["ask", "--json", question]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["doc_id"] for c in data["citations"]] == [SCMP]
    other = data["other_reports"][0]
    assert other["doc_id"] != SCMP and "If Beijing authorizes H200 imports" in other["quote"]
    assert cli.main(["ask", question]) == 0
    out = capsys.readouterr().out
    assert "(other reports on this question; compare them with the answer:)" in out
    assert f"id: {other['id']}" in out


def test_cli_errors_are_one_friendly_line(fake_models: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cite", "not-an-id"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1
    assert cli.main(["ask", "   "]) == 2
    assert "type a question" in capsys.readouterr().err


def test_cli_index_reports_status(fake_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["index"]) == 0
    assert "index built: 2 documents" in capsys.readouterr().out
    assert cli.main(["index"]) == 0
    assert "index up to date" in capsys.readouterr().out
    assert cli.main(["index", "--rebuild"]) == 0
    assert "2 documents" in capsys.readouterr().out


def test_settings_env_and_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "fast")
    monkeypatch.setenv("ASSISTANT_TOP_K", "3")
    s = Settings.from_env()
    assert (s.model, s.top_k, s.index_dir) == ("fast", 3, tmp_path / "index")
    s = Settings.from_env(model="/x.gguf", top_k=None)
    assert (s.model, s.top_k) == ("/x.gguf", 3)
    monkeypatch.setenv("ASSISTANT_TOP_K", "many")
    with pytest.raises(ConfigError, match="ASSISTANT_TOP_K"):
        Settings.from_env()
    with pytest.raises(ConfigError):
        Settings(top_k=0)


def test_cli_ask_prints_the_answer_once(fake_models: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "How many units were approved?"]) == 0
    out = capsys.readouterr().out
    assert out.count("More than 400,000 units") == 1
    assert "Checked answer" not in out and "\n    id: " in out


def test_cli_ask_markdown_gives_each_claim_a_footnote(
        fake_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--json", "How many units were approved?"]) == 0
    cite = json.loads(capsys.readouterr().out)["citations"][0]
    assert cli.main(["ask", "--markdown", "How many units were approved?"]) == 0
    out = capsys.readouterr().out
    body, notes = out.split("\n\n", 1)
    n = cite["n"]
    assert "More than 400,000 units" in body and f"[^{n}]" in body and f"[{n}]" not in body
    note = next(line for line in notes.splitlines() if line.startswith(f"[^{n}]: "))
    # the quoted sentence, the report's title and outlet (this report states no date or
    # URL; tests/test_records.py has one that does), and the citation id
    assert f"“{' '.join(cite['quote'].split())}”" in note
    assert "*Beijing weighs H200 imports amid uncertainty for China tech giants*" in note
    assert "South China Morning Post" in note
    assert note.endswith(f"Citation id: `{cite['id']}`")


def test_cli_help_speaks_to_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "entry-point" not in out and "Plugins" not in out
    for command in ("ask", "cite", "search", "serve", "index"):
        assert f"\n    {command} " in out or f"\n    {command}\n" in out
    assert "examples:" in out and 'assistant ask "' in out


@pytest.mark.parametrize("argv", [
    ["cite", "--model", "fast", "x:0-1:00000000"],
    ["cite", "--llm-url", "http://127.0.0.1:1", "x:0-1:00000000"],
    ["cite", "--index-dir", "/tmp/x", "x:0-1:00000000"],
    ["search", "--model", "fast", "chips"],
    ["search", "--llm-url", "http://127.0.0.1:1", "chips"],
    ["index", "--model", "fast"],
])
def test_cli_subcommands_take_only_their_own_flags(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_cli_search_prints_ids_that_cite_resolves(fake_models: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", "-k", "3", "approval of H200 units"]) == 0
    out = capsys.readouterr().out
    ids = [line.split("id: ", 1)[1] for line in out.splitlines() if line.strip().startswith("id: ")]
    assert len(ids) == 3
    assert not re.search(r"^\d+\. 0\.\d", out, re.MULTILINE)  # no bare scores
    for cid in ids:
        assert cli.main(["cite", "--json", cid]) == 0
        passage = json.loads(capsys.readouterr().out)
        assert passage["citation_id"] == cid and passage["text"]
    assert cli.main(["search", "--json", "approval of H200 units"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == ids[0]


def _modules_after(argv: list[str]) -> set[str]:
    """The top-level modules a fresh interpreter has imported after running ``argv``."""
    code = ("import sys\nfrom assistant import cli\n"
            f"try:\n    cli.main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True, cwd=PROJECT)
    return set(done.stdout.splitlines()[-1].split())


HEAVY = {"numpy", "torch", "onnxruntime", "faiss", "spacy", "transformers", "gradio",
         "llama_cpp", "assistant.core", "assistant.answer", "assistant.models"}


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["cite", "scmp-beijing-weighs-h200-imports:0-790:7cbfce0b"],
])
def test_cli_help_and_cite_import_no_heavy_module(argv: list[str]) -> None:
    # What keeps them under a second: neither the pipeline nor a model library is loaded.
    assert _modules_after(argv) & HEAVY == set()


def test_the_model_threads_sleep_between_steps_unless_the_user_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
