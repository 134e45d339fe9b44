"""Deterministic fault injection for the sandbox server.

Why: the connector must survive what the real API does on a bad day (429 storms, 5xx, hung
responses, cut bodies, a page served twice, records that change between pages, a number that
arrives as text). A fault plan makes each of those happen at a known request, so a test can assert
the connector's reaction instead of hoping to hit it.

A plan is a list of rules. A rule matches API requests by ``path_prefix`` (e.g. ``/v3/lots``)
and/or ``entity`` (an entity name of ``goszakup_api``: matches its REST path and GraphQL queries
of its root); a rule with neither matches every API request (``/_sandbox/*`` never). Among the
requests a rule matches, the first ``after_requests`` pass untouched and the next ``count`` get the
fault. The counters live in the plan, so replacing the plan (``POST /_sandbox/faults``) restarts
them.

Rule keys: ``kind`` (one of :data:`FAULT_KINDS`), ``path_prefix``, ``entity``, ``after_requests``
(default 0), ``count`` (default 1), ``seconds`` (``timeout``: how long to hold before closing,
default 2.0), ``retry_after`` (``429``: the Retry-After header in seconds, default 1), ``field``
(``type_change``: snake_case field to corrupt, default ``total_sum`` or the first float field),
``value`` (``type_change``: the replacement, default ``"12,5 млн"``), ``declare_full_length``
(``truncated``: send the full Content-Length and close early, default true; false sends a
consistent Content-Length for a body that is still cut JSON).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from pipelines.goszakup_api import ENTITIES

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "503",
    "timeout",
    "truncated",
    "invalid_json",
    "repeat_page",
    "record_changes",
    "type_change",
    "empty_page",
)
#: Faults answered before the request is computed.
PRE_FAULTS = frozenset({"429", "500", "503", "timeout"})


@dataclass(eq=False)  # identity equality: two identical rules keep separate counters
class FaultRule:
    kind: str
    path_prefix: str | None = None
    entity: str | None = None
    after_requests: int = 0
    count: int = 1
    seconds: float = 2.0
    retry_after: int = 1
    field: str | None = None
    value: Any = "12,5 млн"
    declare_full_length: bool = True

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault rule: unknown kind {self.kind!r}; valid kinds: {', '.join(FAULT_KINDS)}")
        if self.entity is not None and self.entity not in ENTITIES:
            raise ValueError(
                f"fault rule: unknown entity {self.entity!r}; valid entities: {', '.join(sorted(ENTITIES))}"
            )
        if self.path_prefix is not None and not str(self.path_prefix).startswith("/"):
            raise ValueError(f"fault rule: path_prefix must start with '/', got {self.path_prefix!r}")
        for name in ("after_requests", "count", "retry_after"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"fault rule {self.kind}: {name} must be an integer >= 0, got {value!r}")
        if not isinstance(self.seconds, int | float) or self.seconds < 0:
            raise ValueError(f"fault rule {self.kind}: seconds must be a number >= 0, got {self.seconds!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict):
            raise ValueError(f"fault rule must be an object, got {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"fault rule: unknown key(s) {unknown}; valid keys: {sorted(known)}")
        if "kind" not in data:
            raise ValueError(f"fault rule without 'kind': {data!r}")
        return cls(**data)

    def matches(self, path: str, entities: frozenset[str]) -> bool:
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        return not (self.entity is not None and self.entity not in entities)


@dataclass(frozen=True)
class RequestInfo:
    """What a rule can match on: the request path and the entities the request reads."""

    method: str
    path: str
    entities: frozenset[str]


class FaultPlan:
    """A list of rules with their counters; thread-safe."""

    def __init__(self, rules: list[FaultRule | dict[str, Any]] | None = None) -> None:
        self.rules: list[FaultRule] = [
            r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in rules or []
        ]
        self._seen = [0] * len(self.rules)
        self._fired = [0] * len(self.rules)
        self._previous: dict[int, bytes] = {}  # rule index -> last body served normally (repeat_page)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    @classmethod
    def parse(cls, obj: Any) -> FaultPlan:
        """Accept a plan as a list of rules, ``{"rules": [...]}``, a FaultPlan or None."""
        if obj is None:
            return cls()
        if isinstance(obj, FaultPlan):
            return cls(list(obj.rules))
        if isinstance(obj, dict) and set(obj) == {"rules"}:
            obj = obj["rules"]
        if not isinstance(obj, list):
            raise ValueError('a fault plan is a list of rules or {"rules": [...]}')
        return cls(obj)

    def select(self, req: RequestInfo) -> FaultRule | None:
        """Count the request against every matching rule; return the rule to inject, if any."""
        chosen: FaultRule | None = None
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.matches(req.path, req.entities):
                    continue
                self._seen[i] += 1
                if chosen is None and self._seen[i] > rule.after_requests and self._fired[i] < rule.count:
                    self._fired[i] += 1
                    chosen = rule
        return chosen

    def cannot_apply(self, rule: FaultRule) -> None:
        """The server could not apply ``rule`` here (e.g. no previous page yet): let it fire later."""
        with self._lock:
            i = self.rules.index(rule)
            self._fired[i] -= 1

    def count_injected(self, rule: FaultRule) -> None:
        with self._lock:
            self.injected[rule.kind] += 1

    def remember(self, req: RequestInfo, body: bytes) -> None:
        """Keep the body of a normal answer for the ``repeat_page`` rules that match the request."""
        with self._lock:
            for i, rule in enumerate(self.rules):
                if rule.kind == "repeat_page" and rule.matches(req.path, req.entities):
                    self._previous[i] = body

    def previous(self, rule: FaultRule) -> bytes | None:
        with self._lock:
            return self._previous.get(self.rules.index(rule))

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [
                    {**asdict(r), "seen": self._seen[i], "fired": self._fired[i]}
                    for i, r in enumerate(self.rules)
                ],
                "injected": dict(self.injected),
            }


__all__ = ["FAULT_KINDS", "PRE_FAULTS", "FaultPlan", "FaultRule", "RequestInfo"]
