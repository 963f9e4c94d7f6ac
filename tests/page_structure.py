"""What a routine amounts to, field by field, for comparing an imported page with the routine expected of it."""

from __future__ import annotations

from voiceguide.script.routine import Routine, Span, Step


def span(value: Span | None) -> str | None:
    if value is None:
        return None
    lo, hi = (int(v) if v == int(v) else v for v in (value.lo, value.hi))
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _entry(step: Step, rounds: str | None, rest_between: str | None) -> dict:
    entry: dict = {"name": step.name, "kind": step.kind, "sides": bool(step.sides)}
    if step.kind == "reps":
        entry["reps"] = span(step.reps)
        holds = [p.seconds for p in step.cycle if p.say.lower().startswith("hold")]
        entry["rep_hold"] = holds[0] if holds and len(step.cycle) == 3 else None
    elif step.kind == "hold":
        entry["hold"] = span(step.hold)
        entry["breathe"] = [step.breathe.inhale, step.breathe.exhale] if step.breathe else None
    elif step.kind == "breaths":
        entry.update(breaths=span(step.breaths), inhale=step.inhale, exhale=step.exhale)
    entry["rounds"] = rounds
    entry["rest_between"] = rest_between
    return entry


def structure(routine: Routine) -> dict:
    """Title, cautions (the intro) and each named step: kind, counts, ranges, sides, rounds, breathing."""
    found: list[dict] = []
    rests: list[str | None] = []

    def visit(steps: tuple[Step, ...], rounds: str | None, rest_between: str | None) -> None:
        for step in steps:
            if step.kind == "rounds":
                outer = span(step.rounds)
                inner = outer if rounds is None else f"{rounds}x{outer}"
                visit(step.steps, inner, span(step.rest_between))
            elif step.kind == "rest":
                rests.append(span(step.rest))
            elif step.name:
                found.append(_entry(step, rounds, rest_between))

    visit(routine.steps, None, None)
    return {"title": routine.title, "cautions": list(routine.intro), "exercises": found, "rests": rests}
