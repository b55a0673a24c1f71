"""Honest progress of the facade: the model's state while it loads, and questions that wait."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from assistant.core import Assistant
from assistant.records import Answer, Status
from conftest import REPORT, ScriptedGenerator

Make = Callable[..., Assistant]
REPLY = "More than 400,000 units were approved for ByteDance, Alibaba and Tencent."


def test_a_question_asked_while_the_model_loads_says_it_waits(make_assistant: Make) -> None:
    a = make_assistant([REPLY])
    generator = a.generator  # the scripted model; the factory below hands it out late
    a._generator = None
    release = threading.Event()

    def slow_factory() -> ScriptedGenerator:
        assert release.wait(timeout=30)
        assert isinstance(generator, ScriptedGenerator)
        return generator

    a._generator_factory = slow_factory
    warming = a.warm_in_background()
    assert a.model_status.startswith("loading the model (") and not a.model_ready
    events: list[object] = []
    asking = threading.Thread(target=lambda: events.extend(a.ask_stream("How many units?")))
    asking.start()
    asking.join(timeout=2)  # it waits for the model
    assert asking.is_alive()
    release.set()
    asking.join(timeout=30)
    warming.join(timeout=30)
    stages = [e.stage for e in events if isinstance(e, Status)]
    assert stages[:2] == ["searching", "waiting"], stages
    waiting = next(e for e in events if isinstance(e, Status) and e.stage == "waiting")
    assert waiting.detail.startswith("waiting for the model: loading the model (")
    assert isinstance(events[-1], Answer) and not events[-1].refused
    assert a.model_ready and a.model_status.startswith("ready: model loaded")


def test_no_wait_is_announced_once_the_model_is_ready(make_assistant: Make) -> None:
    a = make_assistant([REPLY])
    a.warm_in_background().join(timeout=30)
    stages = [e.stage for e in a.ask_stream("How many units?") if isinstance(e, Status)]
    assert "waiting" not in stages


def test_model_status_is_not_stale_after_a_reindex(make_assistant: Make,
                                                   corpus_copy: Path) -> None:
    a = make_assistant([REPLY], corpus=corpus_copy, context_mode="corpus")
    a.warm()
    before = a.model_status
    assert before.startswith("ready: model loaded;") and "passages read" in before
    (corpus_copy / "new-report.txt").write_text(REPORT)
    a.reindex()
    assert a.model_status == ("ready: model loaded; the reports are read again at the next "
                              "question")
    list(a.ask_stream("How many units?"))
    after = a.model_status
    assert after.startswith("ready: model loaded;") and after != before
    n = len(a.corpus_prompt(a.generator) or [])
    assert after == f"ready: model loaded; {n} passages read"


def test_a_model_loaded_by_a_question_is_ready(make_assistant: Make) -> None:
    a = make_assistant([REPLY])
    assert a.model_status == "the model loads on the first question" and not a.model_ready
    list(a.ask_stream("How many units?"))
    assert a.model_ready and a.model_status == "ready: model loaded"


def test_a_question_asked_while_the_model_reads_the_reports_says_it_waits(
        make_assistant: Make) -> None:
    a = make_assistant([REPLY], context_mode="corpus")
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    reading, release = threading.Event(), threading.Event()
    prepare = generator.prepare

    def slow_prepare(messages: list[dict[str, str]]) -> str:
        if not release.is_set():
            reading.set()
            assert release.wait(timeout=30)
        return prepare(messages)

    generator.prepare = slow_prepare  # type: ignore[method-assign]
    warming = a.warm_in_background()
    assert reading.wait(timeout=30)
    assert a.model_status.startswith("reading the reports (")
    events: list[object] = []
    asking = threading.Thread(target=lambda: events.extend(a.ask_stream("How many units?")))
    asking.start()
    asking.join(timeout=2)
    assert asking.is_alive()  # it waits for the reading to end
    release.set()
    asking.join(timeout=30)
    warming.join(timeout=30)
    statuses = [e for e in events if isinstance(e, Status)]
    stages = [e.stage for e in statuses]
    assert stages[:3] == ["searching", "reading", "waiting"], stages
    assert statuses[2].detail.startswith("waiting for the model: reading the reports (")
    assert isinstance(events[-1], Answer)


def test_a_question_waiting_for_the_model_can_be_dropped(make_assistant: Make) -> None:
    # While another holds the model, the stream keeps saying that it waits, so a caller
    # that goes away (a closed page) closes it there: nothing is written for it, and the
    # model is free for the next question at once.
    a = make_assistant([REPLY], model_wait_poll_s=0.05)
    generator = a.generator
    assert isinstance(generator, ScriptedGenerator)
    generator.lock.acquire()  # another answer is being written
    try:
        stream = a.ask_stream("How many units?")
        waits = []
        for event in stream:
            if isinstance(event, Status) and event.stage == "waiting":
                waits.append(event.detail)
                if len(waits) == 3:
                    break
        stream.close()
    finally:
        generator.lock.release()
    assert waits == ["waiting for the model: it is busy with another answer"] * 3
    assert generator.prompts == []  # nothing was written for the dropped question
    assert generator.lock.acquire(timeout=1)  # and the model is free
    generator.lock.release()
    assert not list(a.ask_stream("How many units?"))[-1].refused  # type: ignore[union-attr]
