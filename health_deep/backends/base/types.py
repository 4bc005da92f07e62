"""The vocabulary every vendor's type rules share: verdicts, and the rules for digits.

The question is not "are the strings equal" but "can the values the code writes come back
unchanged?". Each vendor home (``backends/<vendor>/types.py``) parses its own spellings and
answers with a :class:`Verdict`; the rules below are the ones two vendors share.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    SAME = "same"
    WIDER = "wider"  # the column holds more than the field writes: works, worth knowing
    NARROWER = "narrower"  # some values the field accepts will be rejected or cut
    COMPATIBLE = "compatible"  # another type that round-trips the values
    INCOMPATIBLE = "incompatible"
    UNKNOWN = "unknown"  # a spelling we do not know: never judged critical


def fold(spelling: str) -> str:
    return " ".join(spelling.lower().split())


def digits_verdict(want: tuple[int, ...], have: tuple[int, ...]) -> Verdict:
    """Decimal ``(precision, scale)``, a missing scale being 0: fewer digits after the point,
    or fewer before it, cut values the field accepts."""
    wp, ws = (*want, 0)[:2]
    hp, hs = (*have, 0)[:2]
    if (wp, ws) == (hp, hs):
        return Verdict.SAME
    return Verdict.NARROWER if hs < ws or hp - hs < wp - ws else Verdict.WIDER


def precision_verdict(want: int, have: int) -> Verdict:
    """Fractional-second digits: fewer round the values the code writes."""
    return Verdict.SAME if want == have else Verdict.NARROWER if have < want else Verdict.WIDER
