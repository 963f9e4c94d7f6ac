"""Valid routine scripts shared by the parser, schema and fuzz tests.

``CONTRACT_EXAMPLE`` is copied verbatim from routine-format.md ("A complete example"); the
parser, the JSON Schema and the planner must all accept it as written there.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILTIN_SCRIPTS = sorted((REPO / "scripts").glob("*.yaml"))

CONTRACT_EXAMPLE = """\
title: Gentle relief sequence          # required
summary: Four floor moves that teach the back and pelvis to move without gripping.
duration: "8:00"                       # optional target length, "m:ss" or seconds
voice: piper                           # optional default voice; the command line overrides it
rate: 0.95                             # optional speech-rate multiplier (0.5 .. 2.0)
caution: true                          # speak the standard safety note first (default: true)
intro: Find a comfortable spot on the floor.
outro: Well done. Notice how your back feels now.

steps:
  - name: Pelvic tilts                 # a named step is a chapter, announced after a chime
    setup:                             # spoken before the work starts (a string or a list)
      - Lie on your back with knees bent, feet flat.
    goal: Teach the back and pelvis to move without gripping.
    reps: 8-12                         # a number, or a range the planner chooses inside
    count: true                        # speak the rep number as each rep starts (default true)
    cycle:                             # one repetition: phases, each spoken as it starts
      - say: Exhale, flatten your low back into the floor.
        short: Exhale.                 # optional shorter cue for reps after the first two
        seconds: 4
        sound: exhale                  # optional cue sound at the phase start
      - say: Inhale, let the pelvis tip slightly forward.
        short: Inhale.
        seconds: 4

  - name: Knee-to-chest rocking
    sides: [right, left]               # the step is done once per side; {side} is replaced
    setup: Hug your {side} knee toward your chest.
    reps: 5-8
    cycle:
      - {say: Rock gently, seconds: 3}
    feel: A gentle stretch and easing, not yanking.

  - name: Hip flexor opener
    sides: [left, right]
    setup:
      - Kneel on your {side} knee with the other foot in front, like a small lunge.
      - Tuck your pelvis slightly and shift your weight forward.
    hold: 20-30                        # seconds, or a range
    breathe: {inhale: 4, exhale: 6}    # optional breathing pacer during the hold
    reminders:                         # spoken, spread evenly through the hold
      - Keep your ribs stacked over your hips.
      - Avoid arching your back.
    countdown: 3                       # numbers spoken in the last seconds (default 3; 0: none)

  - name: Slow breaths
    breaths: 3
    inhale: 4
    exhale: 6

  - rest: 10                           # quiet seconds; "Rest" is said and the next step previewed

  - say: Let your shoulders relax. Tall, but easy.
    pause: 2                           # seconds of quiet after an instruction
"""

SMALL_VALID = """\
title: Small
duration: 90
caution: false
cue_level: -9.5
bed: breath
bed_level: -20
steps:
  - name: Bridge
    sides: [left, right]
    setup:
      - Lie down.
      - Bend your {side} knee.
    reps: "3 - 5"
    count: false
    cycle:
      - {say: Lift., short: Up., seconds: 3, sound: start}
      - {say: Lower., seconds: 2.5}
  - {breaths: 2, say: Breathe in through your nose., inhale: 3, exhale: 4}
  - hold: 10–15
    countdown: 0
    reminders: Easy.
    sound: tick
  - rest: 5
  - say: Done.
"""

VALID_SCRIPTS = {"contract": CONTRACT_EXAMPLE, "small": SMALL_VALID} | {
    path.stem: path.read_text(encoding="utf-8") for path in BUILTIN_SCRIPTS
}
