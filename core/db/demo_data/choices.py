"""The building blocks of the demo's SQL: deterministic choices and small SQL forms.

Every random choice of a build is ``hash(key, seed, salt) % n``: the same arguments give the same
choices, whatever the number of threads. The key is the order's number ``i`` unless said otherwise.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence

from core.db.sql_text import sql_array, sql_literal
from core.demo.plan import PlannedStore
from core.status import Channel, Status

# SQL literals of the statuses and channels the demo writes. An order's fate is its status, or
# 'Partial': Completed and refunded in part.
PENDING, COMPLETED, CANCEL, RETURN = (sql_literal(status) for status in (
    Status.PENDING, Status.COMPLETED, Status.CANCEL, Status.RETURN))
PARTIAL = sql_literal("Partial")
ONLINE, OFFLINE = sql_literal(Channel.ONLINE), sql_literal(Channel.OFFLINE)


def digits_sql(value: str, width: int) -> str:
    """A number below 10**width as text with leading zeros (faster than printf in DuckDB)."""
    return f"substr(({10 ** width} + {value})::VARCHAR, 2)"


def hours(weights: Sequence[int]) -> list[int]:
    """Hours 0–23, each repeated as often as its weight: a weighted pick of an hour."""
    return [hour for hour, weight in enumerate(weights) for _ in range(weight)]


class Choices:
    """What every statement of one build shares: its size, seed and period, and its choices."""

    def __init__(self, orders: int, seed: int, start: dt.datetime, end: dt.datetime,
                 planned: list[PlannedStore]) -> None:
        self.orders = orders
        self.seed = seed
        self.start_epoch = calendar.timegm(start.timetuple())
        self.end_epoch = calendar.timegm(end.timetuple())
        self.days = (end - start).days
        self.online_slots = sum(s.online_weight for s in planned)
        self.offline_slots = sum(s.offline_weight for s in planned)
        self.staff_width = max(6, len(str(len(planned) * 10)))

    def rand(self, salt: str, n: int | str, key: str = "i") -> str:
        return f"(hash({key}, {self.seed}, {sql_literal(salt)}) % ({n}))::BIGINT"

    def pick(self, values: Sequence[object], salt: str, key: str = "i") -> str:
        return f"{sql_array(values)}[1 + {self.rand(salt, len(values), key)}]"

    @staticmethod
    def by_zone(build: Callable[[str], str]) -> str:
        return (f"CASE zone WHEN 'PL' THEN {build('PL')} WHEN 'RO' THEN {build('RO')} "
                f"ELSE {build('RU')} END")

    def by_gender(self, female: str, names: dict, salt: str, key: str = "i") -> str:
        """A name from ``names[zone]``, a (female names, male names) pair."""
        return (f"CASE WHEN {female} "
                f"THEN {self.by_zone(lambda z: self.pick(names[z][0], salt, key))} "
                f"ELSE {self.by_zone(lambda z: self.pick(names[z][1], salt, key))} END")

    @staticmethod
    def lines_sum(term: Callable[[int], str]) -> str:
        """The sum of ``term(line)`` over an order's (at most 4) lines."""
        return " + ".join(
            f"CASE WHEN n_lines >= {line} THEN {term(line)} ELSE 0 END" for line in range(1, 5)
        )
