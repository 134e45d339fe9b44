"""Identification numbers: the generator of valid, unique BINs and IINs.

The check digit rule itself is :mod:`pipelines.bin_iin` (written once); ``kz_check_digit`` and
``valid_biin`` are its names in the sandbox.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipelines.bin_iin import check_digit as kz_check_digit
from pipelines.bin_iin import is_valid as valid_biin

# ================================================================================================
# Identification numbers
# ================================================================================================


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


__all__ = ["IdNumbers", "kz_check_digit", "valid_biin"]
