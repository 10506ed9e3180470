"""TaskRunner, the desktop's one task helper: reports, results, errors, pool size, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

pytest.importorskip("PySide6.QtCore")

from desktop_app.workers import TaskRunner  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


def _on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_reports_arrive_in_order_on_the_gui_thread_before_the_result(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=2)
    got: list[tuple[str, object, bool]] = []

    def count(limit: int, report: Callable[..., None]) -> str:
        for n in range(limit):
            report(n, None if n % 2 else True)
        return "done"

    def note(kind: str) -> Callable[..., None]:
        return lambda *values: got.append((kind, values, _on_gui_thread()))

    for task in range(2):
        runner.submit(
            count, 3000, on_report=note(f"{task}:report"), on_result=note(f"{task}:result")
        )
    wait_for(qtbot, lambda: not runner.busy)
    assert all(gui for _, _, gui in got)
    for task in range(2):
        mine = [(kind, value) for kind, value, _ in got if kind.startswith(f"{task}:")]
        expected = [(f"{task}:report", (n, None if n % 2 else True)) for n in range(3000)]
        assert mine == [*expected, (f"{task}:result", ("done",))]
    runner.shutdown()


def test_an_error_follows_the_reports_made_before_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=1)
    got: list[object] = []

    def fail(report: Callable[..., None]) -> None:
        report("half")
        raise OSError("disk gone")

    runner.submit(fail, on_report=got.append, on_error=got.append)
    wait_for(qtbot, lambda: len(got) == 2)
    assert got[0] == "half"
    assert isinstance(got[1], OSError) and str(got[1]) == "disk gone"
    runner.shutdown()


def test_a_task_without_on_report_gets_no_report_argument(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=1)
    got: list[object] = []
    runner.submit(lambda **kwargs: sorted(kwargs), on_result=got.append)
    wait_for(qtbot, lambda: bool(got))
    assert got == [[]]
    runner.shutdown()


def test_a_runner_runs_no_more_tasks_at_once_than_its_threads(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=2)
    assert runner.max_threads == 2
    lock, release = threading.Lock(), threading.Event()
    running, most = [0], [0]

    def hold() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1

    for _ in range(6):
        runner.submit(hold)
    wait_for(qtbot, lambda: most[0] == 2)
    qtbot.wait(100)  # a third thread would have started by now
    assert most[0] == 2
    release.set()
    wait_for(qtbot, lambda: not runner.busy)
    runner.shutdown()


def test_shutdown_drops_queued_tasks_waits_for_running_ones_and_delivers_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=1)
    started, release, finished = threading.Event(), threading.Event(), []
    delivered: list[object] = []

    def first() -> str:
        started.set()
        release.wait(10)
        finished.append("first")
        return "first"

    runner.submit(first, on_result=delivered.append)
    runner.submit(lambda: finished.append("second"), on_result=delivered.append)
    assert started.wait(10)
    threading.Timer(0.2, release.set).start()
    runner.shutdown(wait_ms=10000)
    assert finished == ["first"]  # waited for the running task; the queued one never ran
    qtbot.wait(100)
    assert finished == ["first"] and delivered == []


def test_a_runner_on_the_global_pool_is_deleted_without_waiting_for_its_task(qtbot) -> None:  # type: ignore[no-untyped-def]
    import shiboken6

    runner = TaskRunner(max_threads=None)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    delivered: list[object] = []

    def slow() -> str:
        started.set()
        release.wait(10)
        finished.set()
        return "late"

    runner.submit(slow, on_result=delivered.append)
    assert started.wait(10)
    shiboken6.delete(runner)  # as when the preview dialog holding it closes
    assert not finished.is_set()  # the deletion did not wait for the task
    release.set()
    assert finished.wait(10)
    qtbot.wait(100)
    assert delivered == []  # the late result has nowhere to go and is dropped
