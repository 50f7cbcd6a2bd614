"""The live build view's model and renderer (pure), and the plain output's lines."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from dockyard.build.progress import PlainProgress
from dockyard.build.progress_view import TAIL_LINES, ProgressModel, StepState, render


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _texts(model: ProgressModel, now: float, width: int = 80) -> list[str]:
    return [line.text for line in render(model, now, width)]


def test_steps_show_number_state_and_time() -> None:
    clock = Clock()
    model = ProgressModel(clock=clock)
    model.step(1, 3, "FROM busybox")
    model.step_done("3aab40fe708c")
    clock.now += 0.5
    model.step(2, 3, "COPY app/ /app/")
    model.cached()
    model.step_done("f136dccb4d02")
    model.step(3, 3, "RUN make")
    model.running("72e9553512fa")
    model.output(b"compiling\nlinking")
    clock.now += 2.0
    lines = _texts(model, clock.now)
    assert lines[0] == "[+] Building 2.5s (2/3)"
    assert lines[1].startswith(" => [1/3] FROM busybox") and lines[1].endswith(" 0.0s")
    assert lines[2].startswith(" => CACHED [2/3] COPY app/ /app/")
    assert lines[3].startswith(" => [3/3] RUN make") and lines[3].endswith(" 2.0s")
    assert lines[4:] == [" => => # compiling", " => => # linking"]
    assert all(len(line) <= 80 for line in lines)
    model.step_done("72e9553512fa")
    model.built("sha256:" + "ab" * 32, ["app:1"])
    final = _texts(model, clock.now + 10, width=120)
    assert final[0] == "[+] Building 2.5s (3/3) FINISHED"
    assert not any("# compiling" in line for line in final)  # a finished step's log is hidden
    assert final[-2:] == [f" => writing image sha256:{'ab' * 32}", " => => naming to app:1"]


def test_a_failed_step_keeps_its_output_tail() -> None:
    clock = Clock()
    model = ProgressModel(clock=clock)
    model.step(1, 2, "FROM busybox")
    model.step_done("x")
    model.step(2, 2, "RUN false")
    model.running("y")
    model.output(b"".join(b"line %d\n" % i for i in range(20)))
    model.fail()
    lines = render(model, clock.now)
    assert lines[0].text.endswith("ERROR") and lines[0].style == "bold red"
    assert lines[2].text.startswith(" => ERROR [2/2] RUN false")
    assert [line.text for line in lines[3:]] == [
        f" => => # line {i}" for i in range(20 - TAIL_LINES, 20)
    ]
    assert model.steps[1].state is StepState.ERROR


def test_long_instructions_are_cut_to_the_width() -> None:
    model = ProgressModel(clock=Clock())
    model.step(1, 1, "RUN " + "x" * 200)
    lines = _texts(model, 100.0, width=40)
    assert all(len(line) <= 40 for line in lines)
    assert "…" in lines[1]


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(min_value=20, max_value=200))
def test_any_output_renders_within_the_width(chunks: list[bytes], width: int) -> None:
    model = ProgressModel(clock=Clock())
    model.step(1, 1, "RUN x")
    model.running("id")
    for chunk in chunks:
        model.output(chunk)
    lines = _texts(model, 100.0, width)
    assert all(len(line) <= width for line in lines)
    assert len(lines) <= 2 + TAIL_LINES


def test_plain_progress_prints_docker_classic_lines() -> None:
    out = io.StringIO()
    plain = PlainProgress(out)
    plain.step(1, 2, "FROM busybox")
    plain.step_done("3aab40fe708c")
    plain.step(2, 2, "RUN echo hi")
    plain.running("72e9553512fa")
    plain.output(b"hi\n")
    plain.step_done("72e9553512fa")
    plain.built("sha256:ce05154a3f95aaaa", ["app", "app:1"])
    assert out.getvalue().splitlines() == [
        "Step 1/2 : FROM busybox",
        " ---> 3aab40fe708c",
        "Step 2/2 : RUN echo hi",
        " ---> Running in 72e9553512fa",
        "hi",
        " ---> 72e9553512fa",
        "Successfully built ce05154a3f95",
        "Successfully tagged app:latest",
        "Successfully tagged app:1",
    ]
