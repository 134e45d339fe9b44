"""Identification numbers: BIN/IIN check digits and the generator of valid, unique numbers."""

from __future__ import annotations

import datetime as dt

import numpy as np

# ================================================================================================
# Identification numbers
# ================================================================================================


def kz_check_digit(first11: str) -> int | None:
    """Check digit of a Kazakh BIN/IIN, or None when the 11 digits admit none (then skip them)."""
    d = [int(c) for c in first11]
    s = sum(x * w for x, w in zip(d, range(1, 12), strict=True)) % 11
    if s == 10:
        s = sum(x * w for x, w in zip(d, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True)) % 11
        if s == 10:
            return None
    return s


def valid_biin(number: str) -> bool:
    """True when ``number`` is 12 digits with a valid check digit."""
    if len(number) != 12 or not number.isdigit():
        return False
    return kz_check_digit(number[:11]) == int(number[11])


class IdNumbers:
    """Unique BINs (legal entities) and IINs (people) with valid check digits."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()

    def _finish(self, head: str, serial_digits: int) -> str:
        while True:
            body = head + "".join(str(int(x)) for x in self.rng.integers(0, 10, serial_digits))
            check = kz_check_digit(body)
            if check is None:
                continue
            number = body + str(check)
            if number not in self.used:
                self.used.add(number)
                return number

    def bin(self, regdate: dt.datetime) -> str:
        # YYMM of registration, 4 = resident legal entity, 0 = head office, 5 serial digits
        return self._finish(f"{regdate:%y%m}40", 5)

    def iin(self, birth: dt.date, female: bool) -> str:
        century = (3 if birth.year < 2000 else 5) + (1 if female else 0)
        return self._finish(f"{birth:%y%m%d}{century}", 4)
