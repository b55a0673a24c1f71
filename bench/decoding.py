"""Decoding speed and sameness: llama-cpp-python's own loop against ours, with prompt lookup.

Run ``python bench/decoding.py --label NAME`` (``--help`` for options). It asks real
questions (a calibration file) with the bundled default model on the two reports,
records every reply the answer path streams (the draft, its continuation, the answer
check), and then replays each recorded request from the same prepared state with:

- ``reference``: llama-cpp-python's ``create_chat_completion`` (``create_completion``
  for a continued reply), greedy, as the project decoded before;
- ``draft=0``: the project's own greedy loop, one token per step;
- ``draft=K``: the same loop proposing up to K prompt tokens per step (prompt lookup).

For each it prints the seconds spent, the tokens written, tokens per second of the
whole request (reading the question included), and how many replies are exactly the
reference's. Results go to ``bench/results/decoding_<label>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

from assistant.core import Assistant  # noqa: E402
from assistant.evaluation import load_items  # noqa: E402
from assistant.models.files import resolve_model  # noqa: E402
from assistant.models.generation import LlamaCppGenerator, Message  # noqa: E402
from assistant.settings import Settings  # noqa: E402


class Recording:
    """Passes requests on to the model and keeps each streamed one with its prepared start."""

    def __init__(self, inner: LlamaCppGenerator) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_tokens = inner.context_tokens
        self.lock = inner.lock
        self.last_stats = inner.last_stats
        self.warm: list[Message] = []
        self.requests: list[dict[str, Any]] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def prepare(self, messages: list[Message]) -> str:
        self.warm = messages
        return self.inner.prepare(messages)

    def score(self, messages: list[Message], options: Sequence[Sequence[str]]
              ) -> list[float] | None:
        return self.inner.score(messages, options)

    def stream(self, messages: list[Message], max_tokens: int, prefix: str = ""
               ) -> Iterator[str]:
        self.requests.append({"warm": self.warm, "messages": messages,
                              "max_tokens": max_tokens, "prefix": prefix})
        yield from self.inner.stream(messages, max_tokens, prefix)
        self.last_stats = self.inner.last_stats


def reference(gen: LlamaCppGenerator, request: dict[str, Any]) -> Iterator[str]:
    """The reply as llama-cpp-python's own loop writes it (greedy), as decoded before."""
    llm = gen._llm
    common = {"max_tokens": request["max_tokens"], "temperature": 0.0, "top_p": 1.0,
              "top_k": 1, "repeat_penalty": 1.0, "seed": 7}
    if request["prefix"]:
        prompt = gen._prompt_tokens(request["messages"], reply=True) + llm.tokenize(
            request["prefix"].encode(), add_bos=False, special=False)
        pieces: Any = llm.create_completion(prompt=prompt, stream=True, **common)
        for piece in pieces:
            yield str(piece["choices"][0].get("text") or "")
        return
    chunks: Any = llm.create_chat_completion(messages=request["messages"], stream=True,
                                             **common)
    for chunk in chunks:
        yield str(chunk["choices"][0].get("delta", {}).get("content") or "")


def run_variant(gen: LlamaCppGenerator, requests: list[dict[str, Any]],
                draft: int | None) -> list[dict[str, Any]]:
    rows = []
    for request in requests:
        gen.prepare(request["warm"])
        started = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        if draft is not None:
            gen._draft_tokens = draft
        stream = (reference(gen, request) if draft is None else
                  gen.stream(request["messages"], request["max_tokens"], request["prefix"]))
        for piece in stream:
            if first is None and piece:
                first = time.perf_counter() - started
            pieces.append(piece)
        seconds = time.perf_counter() - started
        text = "".join(pieces)
        if draft is None:
            written = sum(1 for p in pieces if p)
            steps = float(written)
        else:
            written = int(gen.last_stats["written_tokens"])
            steps = gen.last_stats["decode_steps"]
        rows.append({"seconds": seconds, "first_s": first or seconds, "text": text,
                     "written": written, "steps": steps})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--questions", type=Path,
                        default=ROOT / "tests/data/answering_blind19.jsonl")
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--drafts", default="0,4,8,16")
    parser.add_argument("--mode", default="auto", choices=["auto", "retrieved"])
    args = parser.parse_args()

    load_before = os.getloadavg()
    settings = Settings(context_mode=args.mode)
    path = resolve_model(settings.model, settings.cache_dir)
    gen = LlamaCppGenerator(path, settings.context_tokens, settings.threads,
                            state_dir=settings.cache_dir / "states")
    recording = Recording(gen)
    assistant = Assistant.open(settings=settings, generator=recording)  # type: ignore[arg-type]
    items = [i for i in load_items(args.questions) if not i.history][:args.limit]
    for item in items:
        assistant.ask(item.question)
    requests = recording.requests
    variants: dict[str, list[dict[str, Any]]] = {"reference": run_variant(gen, requests, None)}
    for draft in (int(d) for d in args.drafts.split(",")):
        variants[f"draft={draft}"] = run_variant(gen, requests, draft)
    base = variants["reference"]
    summary = {}
    for name, rows in variants.items():
        seconds = sum(r["seconds"] for r in rows)
        written = sum(r["written"] for r in rows)
        writing = sum(r["seconds"] - r["first_s"] for r in rows)
        after_first = sum(max(0, r["written"] - 1) for r in rows)
        summary[name] = {
            "seconds": round(seconds, 2), "written": written,
            # writing speed after the first token (reading the prompt excluded)
            "write_tokens_per_s": round(after_first / writing, 2) if writing else None,
            "tokens_per_s": round(written / seconds, 2) if seconds else None,
            "per_request_median_s": round(statistics.median(r["seconds"] for r in rows), 3),
            "steps": sum(r["steps"] for r in rows),
            "same_as_reference": sum(r["text"] == b["text"] for r, b in zip(rows, base,
                                                                           strict=True)),
        }
        print(f"{name:<10} {seconds:7.1f} s  {written:5d} tokens  "
              f"{summary[name]['tokens_per_s']} tok/s, writing "
              f"{summary[name]['write_tokens_per_s']} tok/s  "
              f"same {summary[name]['same_as_reference']}/{len(rows)}")
    out = {"machine": machine_info(), "load_before": load_before, "load_after": os.getloadavg(),
           "questions": str(args.questions), "mode": args.mode, "requests": len(requests),
           "summary": summary,
           "differences": [{"request": i, "variant": name, "reference": base[i]["text"],
                            "text": rows[i]["text"]}
                           for name, rows in variants.items()
                           for i in range(len(rows)) if rows[i]["text"] != base[i]["text"]]}
    target = ROOT / "bench" / "results" / f"decoding_{args.label}.json"
    target.write_text(json.dumps(out, indent=1))
    print(f"load {load_before[0]:.2f} -> {out['load_after'][0]:.2f}; written to {target}")


if __name__ == "__main__":
    main()
