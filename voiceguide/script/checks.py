"""Checks that need a whole step or routine: the three-hour limit, and settings the plan would ignore."""

from __future__ import annotations

from collections.abc import Sequence

from .fields import Reader
from .include import step_label
from .routine import MAX_SESSION_S, Span, Step, StepKind


def _lo(span: Span | None) -> float:
    """A range's low end; a step's own kind always has its range, so None is only a safe zero."""
    return span.lo if span is not None else 0.0


def _least_work_s(step: Step) -> float:
    """The shortest the work of a step can be (ranges at their low end), for the 3-hour limit."""
    if step.kind == StepKind.INCLUDE:
        return sum(_least_work_s(s) for s in step.steps)
    if step.kind == StepKind.ROUNDS:
        between = _lo(step.rest_between) * (_lo(step.rounds) - 1)
        return _lo(step.rounds) * sum(_least_work_s(s) for s in step.steps) + between
    work = {
        StepKind.SAY: lambda: step.pause,
        StepKind.REPS: lambda: _lo(step.reps) * sum(p.seconds for p in step.cycle),
        StepKind.HOLD: lambda: _lo(step.hold),
        StepKind.BREATHS: lambda: _lo(step.breaths) * (step.inhale + step.exhale),
        StepKind.REST: lambda: _lo(step.rest),
    }[step.kind]()
    return work * max(1, len(step.sides))


def check_session_length(r: Reader, steps: Sequence[Step | None]) -> None:
    timed = [(_least_work_s(s), s) for s in steps if s is not None]
    total_s = sum(t for t, _ in timed)
    if total_s > MAX_SESSION_S:
        longest_s, step = max(timed, key=lambda ts: ts[0])
        r.error(step.locations.get(step.kind, step.location), (
            f"the steps last at least {total_s / 3600:.1f} hours even with every range at its low end "
            f"(step {step_label(step.where)} alone: {longest_s / 3600:.1f} hours); a session is limited to 3 hours: "
            f"{_shorter(step)}"))


def _shorter(step: Step) -> str:
    """What to write instead, for the step that takes longest."""
    if step.kind == StepKind.ROUNDS:
        return "use fewer rounds, or shorter steps inside them"
    if step.kind == StepKind.INCLUDE:
        return "include a shorter routine, or fewer steps around it"
    return "use fewer reps, shorter holds or fewer steps"


def warn_unused(r: Reader, step: Step) -> None:
    """Settings that the plan would quietly ignore or cut short."""
    if step.reps is not None and step.reps.hi <= 2:
        for p, phase in enumerate(step.cycle, 1):
            if phase.short and phase.location is not None:
                r.warn(phase.location, f"the 'short' cue of phase {p} of step {step_label(step.where)} is never "
                                       "heard: it is used from rep 3 on, and this step has at most 2 reps")
    written = "countdown" in step.locations  # the default adapts to short holds without a word
    if step.hold is not None and written and step.countdown and step.countdown >= int(step.hold.lo):
        start = int(step.hold.lo) - 1
        then = f"it will count down from {start}" if start > 0 else "it is left out"
        r.warn(step.locations["countdown"], (
            f"a countdown of {step.countdown} does not fit in a {step.hold.lo:g} s hold; {then} "
            "(write a smaller countdown or a longer hold)"))
