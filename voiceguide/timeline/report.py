"""Plans as text a person reads: the table of ``voiceguide plan`` and the cue sheet beside an export."""

from __future__ import annotations

from ..audio.bed import Bed
from .clock import clock
from .events import EventKind
from .plan import Event, Plan


def numbered_step(plan: Plan, index: int, where: tuple[int, ...] = ()) -> str:
    """"3 Bridges" for the third step, "3.2 Bridges" for the second inside it."""
    steps = plan.routine.steps
    if index < 0:
        return "intro"
    if index >= len(steps):
        return "outro"
    where = where or (index,)
    step = plan.routine.step_at(where)
    return f"{'.'.join(str(i + 1) for i in where)} {step.name or step.kind}"


def _event_step(plan: Plan, e: Event) -> str:
    label = numbered_step(plan, e.step, e.path)
    return label + (f" r{e.round}" if e.round is not None else "")


def sound_line(bed: Bed | None, cue_level_lu: float) -> str:
    """Which bed is under the voice and where the cues sit, for ``plan``, the cue sheet and the screen."""
    under = f"bed: {bed.describe()}, ducked under speech" if bed is not None else "bed: none"
    return f"{under}; cues at {cue_level_lu:g} LU"


def plan_table(plan: Plan, sound: str | None = None) -> str:
    """Time, step and what is heard, one event a line, with the chapters, choices and ``sound``
    (``sound_line``) on top."""
    lines = [f"{plan.title} ({clock(plan.duration_s)})"]
    if sound:
        lines.append(sound)
    if plan.choices:
        chosen = ", ".join(
            f"{numbered_step(plan, step.where[0], step.where)}: {k} {v:g}" + (f" ({side})" if side else "")
            for (i, k, side), v in plan.choices.items() if (step := plan.routine.by_ref(i)) is not None
        )
        lines.append(f"chosen: {chosen}")
    lines.append("")
    width = _step_width(plan)
    lines.append(f"{'time':>7}  {'step':<{width}}  heard")
    lines += [_event_line(plan, e, width) for e in plan.events]
    lines.append(f"{clock(plan.duration_s):>7}  {'end':<{width}}")
    return "\n".join(lines)


def cue_sheet_text(plan: Plan, sound: str | None = None) -> str:
    """The plan as a person reads it (``export --cue-sheet``): chapters as headings, then time,
    step and what is heard."""
    lines = [plan.title]
    if plan.routine.summary:
        lines.append(plan.routine.summary)
    lines.append(f"Length {clock(plan.duration_s)}")
    if sound:
        lines.append(sound[0].upper() + sound[1:])
    lines.append("")
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
    return max((len(_event_step(plan, e)) for e in plan.events), default=4)


def _event_line(plan: Plan, e: Event, width: int) -> str:
    heard = e.text if e.kind == EventKind.SPEECH else f"[{e.sound}]"
    return f"{clock(plan.seconds(e.start)):>7}  {_event_step(plan, e):<{width}}  {heard}"
