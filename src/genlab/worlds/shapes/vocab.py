"""The closed vocabulary of the ``shapes`` world: colours, shapes, numbers, relations.

Colours sit 50-70 degrees apart in hue at high saturation so that a judge can
name them exactly under noise, blur and JPEG; backgrounds are achromatic so no
object colour can be mistaken for one.
"""

from __future__ import annotations

# name -> sRGB (uint8). Hues ~0, 50, 130, 185, 228, 285 degrees.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "yellow": (230, 200, 30),
    "green": (40, 170, 60),
    "cyan": (30, 185, 205),
    "blue": (40, 70, 225),
    "purple": (170, 50, 215),
}

BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "black": (0, 0, 0),
}
DEFAULT_BACKGROUND = "white"

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
PLURALS: dict[str, str] = {s: s + "s" for s in SHAPES}

NUMBERS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8,
}
NUMBER_WORDS: dict[int, str] = {v: k for k, v in NUMBERS.items()}
MAX_COUNT = max(NUMBERS.values())

# relation name -> the English phrase between the two objects
RELATIONS: dict[str, str] = {
    "left": "to the left of",
    "right": "to the right of",
    "above": "above",
    "below": "below",
}

CATEGORIES: tuple[str, ...] = (
    "single", "counting", "multi", "position", "binding", "negation", "layout",
)

# Words the grammar uses besides colours, shapes, numbers and relation phrases.
FUNCTION_WORDS: tuple[str, ...] = (
    "a", "an", "and", "no", "object", "objects", "on", "background",
    "to", "the", "left", "right", "of", "above", "below",
)


def vocabulary() -> list[str]:
    """Every word the grammar accepts, sorted (the tokenizer's vocabulary)."""
    words = set(COLOURS) | set(BACKGROUNDS) | set(SHAPES) | set(PLURALS.values())
    words |= set(NUMBERS) | set(FUNCTION_WORDS)
    return sorted(words)
