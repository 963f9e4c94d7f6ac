"""Plans as text a person reads: the table of ``voiceguide plan``, the cue sheet beside an export,
and the listing of ``voiceguide list``."""

from __future__ import annotations

from pathlib import Path

from ..errors import VoiceguideError
from ..timeline.plan import Event, Plan


def clock(seconds: float) -> str:
    """72.25 -> '1:12.2' (tenths: what an ear can place); an hour or more: '1:00:05.0'."""
    minutes, rest = divmod(round(seconds, 1), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"


def step_label(plan: Plan, index: int) -> str:
    steps = plan.routine.steps
    if index < 0:
        return "intro"
    if index >= len(steps):
        return "outro"
    step = steps[index]
    return f"{index + 1} {step.name or step.kind}"


def plan_table(plan: Plan) -> str:
    """Time, step and what is heard, one event a line, with the chapters and choices on top."""
    lines = [f"{plan.title} ({clock(plan.duration_s)})"]
    if plan.choices:
        chosen = ", ".join(
            f"{step_label(plan, i)}: {k} {v:g}" + (f" ({side})" if side else "")
            for (i, k, side), v in plan.choices.items()
        )
        lines.append(f"chosen: {chosen}")
    lines.append("")
    width = _step_width(plan)
    lines.append(f"{'time':>7}  {'step':<{width}}  heard")
    lines += [_event_line(plan, e, width) for e in plan.events]
    lines.append(f"{clock(plan.duration_s):>7}  {'end':<{width}}")
    return "\n".join(lines)


def cue_sheet_text(plan: Plan) -> str:
    """The plan as a person reads it (``export --cue-sheet``): chapters as headings, then time,
    step and what is heard."""
    lines = [plan.title]
    if plan.routine.summary:
        lines.append(plan.routine.summary)
    lines += [f"Length {clock(plan.duration_s)}", ""]
    chapters = sorted(plan.chapters, key=lambda c: c.start)
    width = _step_width(plan)
    for e in plan.events:
        while chapters and chapters[0].start <= e.start:
            chapter = chapters.pop(0)
            lines += ["", f"{clock(plan.seconds(chapter.start)):>7}  == {chapter.title} =="]
        lines.append(_event_line(plan, e, width))
    lines.append(f"{clock(plan.duration_s):>7}  end")
    return "\n".join(lines) + "\n"


def _step_width(plan: Plan) -> int:
    return max((len(step_label(plan, e.step)) for e in plan.events), default=4)


def _event_line(plan: Plan, e: Event, width: int) -> str:
    heard = e.text if e.kind == "speech" else f"[{e.sound}]"
    return f"{clock(plan.seconds(e.start)):>7}  {step_label(plan, e.step):<{width}}  {heard}"


def routine_listing(paths: list[Path], options) -> str:
    """Name, title and length of each routine; one that cannot be planned says why instead."""
    from ..session import open_speech, prepare

    rows, speech = [], None
    for path in paths:
        try:
            speech = speech or open_speech(None, options)
            session = prepare(str(path), options, speech=speech)
            rows.append((path.stem, session.routine.title, clock(session.plan.duration_s)))
        except VoiceguideError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            rows.append((path.stem, f"(cannot be planned: {first})", "-"))
    if not rows:
        return "no routines found"
    name_w = max(len(r[0]) for r in rows)
    title_w = max((len(t) for _, t, d in rows if d != "-"), default=0)  # a long reason does not widen the table
    return "\n".join(f"{n:<{name_w}}  {t:<{title_w}}  {d:>7}" if d != "-" else f"{n:<{name_w}}  {t}"
                     for n, t, d in rows)
