"""The words the rules know: verbs of movement and position, labels, cautions, headings that are not exercises.

Kept apart from the rules so that a reader can see (and extend) the vocabulary in one place.
"""

from __future__ import annotations

import re
from typing import Final

MOVE_VERBS: Final = frozenset("""
arch bend bounce bring breathe circle clasp close contract cross curl dip draw drive drop ease engage exhale
extend flatten flex float fold glide grip hang hinge hug inhale jump kick lean let lift look lower lunge march move
nod open pause pedal point press pull pulse push raise reach relax release repeat return rise rock roll rotate round
scoot shift shrug sink slide slip squat squeeze step straighten stretch sway swing take tap tighten tilt tip touch
trace tuck turn twist walk hold keep stay allow drift imagine notice feel let's continue finish aim try go come
bring settle wrap loop pull plant spread brace hollow breathe sigh stop rest alternate switch swap perform do
practice practise complete count squat hop skip climb punch
""".split())
POSITION_VERBS: Final = frozenset("""
lie lay sit stand kneel start begin place put set position get find rest come assume
""".split())
VERBS: Final = MOVE_VERBS | POSITION_VERBS
RETURN_VERBS: Final = frozenset("lower return release relax straighten uncurl unroll come drop reverse".split())
ADVERBS: Final = frozenset("""
gently slowly carefully now then next again and still smoothly softly lightly firmly fully just simply
slightly calmly quietly first finally also easily comfortably
""".split())
POSITION_OPENERS: Final = re.compile(r"^(?:from|on|with|in|starting|lying|sitting|standing|kneeling|facing|"
                                     r"holding|using|keeping|while|at)\b", re.I)
BODY_WORDS: Final = re.compile(r"\b(?:back|spine|hips?|pelvis|knees?|feet|foot|legs?|arms?|hands?|shoulders?|neck|"
                               r"head|chin|ribs?|chest|belly|core|glutes?|thighs?|heels?|toes?|ankles?|wrists?|"
                               r"elbows?|breath\w*|inhale|exhale|floor|mat|chair|wall|sit bones|body|muscles?)\b",
                               re.I)
LABELS: Final = {"cue": "cue", "cues": "cue", "focus": "cue", "tip": "cue", "form tip": "cue", "key point": "cue",
                 "remember": "cue", "coaching cue": "cue", "feel": "feel", "you should feel": "feel",
                 "what you should feel": "feel", "sensation": "feel", "goal": "goal", "aim": "goal",
                 "purpose": "goal", "why": "goal", "target": "goal"}
CAUTION_LABEL: Final = re.compile(r"^(?:caution|warning|important|safety(?:\s+note)?|please\s+note|precautions?|"
                                  r"before\s+you\s+(?:start|begin)|stop\s+if|careful|note\s+of\s+caution)\s*:\s*", re.I)
CAUTION_LINE: Final = re.compile(
    r"^(?:stop\s+(?:if|any|the\s+\w+\s+if|and|right\s+away|immediately)|do\s+not\b.*\b(?:if|pain|push|force)|"
    r"don'?t\b.*\b(?:if|pain|push|force)\b|avoid\b.*\bif\b|"
    r"if\s+(?:you|your|the|anything|any|it)\b.*\b(?:stop|skip|avoid|check|consult|talk|see|ease|go\s+back|rest|call|"
    r"back\s+off|contact|tell|phone|ring|seek)\b|"
    r"check\s+with|consult|talk\s+to\s+(?:a|your)\s+(?:doctor|physio|therapist|gp)|seek\s+(?:medical|help)|"
    r"this\s+(?:page|content|information|handout|sheet)\s+is\s+(?:for|not)\b|ease\s+off\s+if|never\s+\w+\s+into\s+pain|"
    r"exercises?\s+should\s+not|(?:mild|some)\s+\w+\s+is\s+normal|pain\s+that\b|"
    r"(?:severe|sharp|shooting|sudden)\s+\w+)", re.I)
CAUTION_HEADING: Final = re.compile(r"\b(?:caution|cautious|safety|safely|precautions?|warnings?|when\s+to\s+stop|"
                                    r"stop\s+if|before\s+you\s+(?:begin|start)|important|contraindications?|"
                                    r"red\s+flags?|see\s+a\s+doctor|seek\s+help|disclaimer)\b", re.I)
NOT_EXERCISE_HEADING: Final = re.compile(
    r"\b(?:habits?|tips?|why|what|common|causes?|patterns?|about|overview|introduction|intro|benefits?|goals?|faq|"
    r"references?|summary|conclusion|notes?|things|feels?\s+like|science|equipment|you'?ll\s+need|how\s+it\s+works|"
    r"understanding|background|resources?|contact|further\s+reading|related|explained|anatomy|myths?)\b", re.I)
FEEL_OPENER: Final = re.compile(r"^(?:you\s+should\s+feel|you'?ll\s+feel|you\s+will\s+feel|you\s+may\s+feel|"
                                r"feel\s+(?:for|it\s+in))\s*:?\s*", re.I)
NUMBERING: Final = re.compile(r"^(?:(?:exercise|step|move|stretch|part|drill|station)\s*#?\d+(?:\s*(?:of|/)\s*\d+)?"
                              r"\s*[:.)–—-]?\s*|(?:exercise|exercise\s+name|name|move)\s*:\s*"
                              r"|#?\d{1,2}\s*[.)]\s*|[A-Za-z][.)]\s+|\(\w\)\s+|[ivx]{1,4}[.)]\s+)", re.I)


def first_verb(text: str) -> str | None:
    """The verb an instruction starts with, past adverbs ("Gently tilt ..." -> "tilt"); None if it does not."""
    for word in re.findall(r"[A-Za-z'][A-Za-z'-]*", text.lower())[:4]:
        if word in VERBS:
            return word
        if word not in ADVERBS:
            return None
    return None


def is_instruction(text: str) -> bool:
    """A line that tells the listener what to do: it starts with a verb, or a position and then one."""
    if first_verb(text):
        return True
    if POSITION_OPENERS.match(text) and "," in text:
        return first_verb(text.split(",", 1)[1]) is not None
    return False


def is_position(text: str) -> bool:
    """An instruction that sets the listener up rather than moves them ("Lie on your back ...")."""
    if POSITION_OPENERS.match(text) and "," in text:
        return first_verb(text.split(",", 1)[1]) in POSITION_VERBS | {None}
    return bool(POSITION_OPENERS.match(text)) or first_verb(text) in POSITION_VERBS


def title_case(text: str) -> bool:
    """"Lower Back & Hips": most longer words capitalised, as titles are and instructions are not."""
    words = [w for w in re.findall(r"[A-Za-z']+", text) if len(w) > 3]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


WHOLE: Final = re.compile(r"\b(?:circuit|all\s+(?:the\s+|of\s+the\s+|these\s+|four\s+|three\s+|five\s+)?"
                          r"(?:exercises|moves|stretches)|whole\s+(?:thing|routine|sequence|set|list|workout|circuit)|the\s+sequence|"
                          r"the\s+above|entire|everything|between\s+(?:exercises|moves|stations))\b", re.I)
"""A line about the whole routine, not the exercise it stands under."""

WORK: Final = re.compile(r"\b(?:work|each\s+(?:exercise|move|station)|every\s+(?:exercise|move)|seconds?\s+on)\b", re.I)
"""A line giving every exercise its time ("work for 40 seconds", "40 seconds on, 20 off")."""

VARIATION: Final = re.compile(r"^(?:advanced|harder|progression|make\s+it\s+harder|challenge|intermediate|level\s+up|"
                              r"too\s+easy|regression|easier|make\s+it\s+easier|modification|option|variation|"
                              r"beginners?\s+option)\s*:", re.I)
"""A line offering another version of the exercise: noted, not followed (the page's first version is)."""

SETUP_LABEL: Final = re.compile(r"^(?:instructions?|how\s+to(?:\s+do\s+it)?|position|starting\s+position|start|"
                                r"technique|method|description|directions|steps|to\s+do|setup|set-up|do\s+this|movement|action|motion|"
                                r"execution|position)\s*:\s*",
                                re.I)
"""A label before instructions ("Instructions: Sit on a chair."): not said, the instructions are."""
DOSE_LABEL: Final = re.compile(r"^(?:dosage|dose|prescription|parameters|reps|repetitions|sets|hold|frequency|repeat|"
                               r"rest|duration|time|tempo|volume|practice|goal|cue|feel|tip|focus|note|aim|sides)\s*:",
                               re.I)
"""Labels of a line about an exercise, never its name ("Dosage: Repeat 10x, 3 sets")."""


def field_label(text: str) -> bool:
    """A bold lead that labels a line rather than names an exercise ("Goal:", "Reps:", "Caution:")."""
    text = text.strip().rstrip(":").strip() + ":"
    return bool(DOSE_LABEL.match(text) or CAUTION_LABEL.match(text) or SETUP_LABEL.match(text)
                or VARIATION.match(text) or text[:-1].lower() in LABELS)

PART_HEADING: Final = re.compile(
    r"^(?:how\s+to(?:\s+do\s+it|\s+perform(?:\s+it)?)?|instructions?|steps?|directions|technique|execution|form|"
    r"(?:sets?|reps?|repetitions)(?:\s*(?:and|&|/|,)\s*(?:sets?|reps?|repetitions|rest|hold))*|dosage|dose|prescription|"
    r"(?:form\s+)?(?:tips?|cues?)|coaching\s+cues?|starting\s+position|setup|set-up|the\s+movement|"
    r"common\s+mistakes?|mistakes?\s+to\s+avoid|muscles?\s+(?:worked|used|targeted)|targets?|benefits?|why\s+it\s+works|"
    r"variations?|modifications?|progressions?|regressions?|make\s+it\s+(?:easier|harder)|equipment|"
    r"what\s+you(?:'ll)?\s+need)\s*:?$", re.I)
"""A heading for one part of the exercise above it ("How to do it", "Sets and reps"), not an exercise."""
PART_LEFT_OUT: Final = re.compile(r"mistake|muscle|target|benefit|why|variation|modification|progression|regression|"
                                  r"easier|harder|equipment|need", re.I)
"""Of those parts, the ones that explain rather than instruct: left out."""
