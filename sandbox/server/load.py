"""Rate limiting and load statistics of the sandbox server."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Requests-per-second limiter; ``take`` returns 0 when allowed, else seconds until a token."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


class LoadMeter:
    """How busy the API was: time with at least one API request in flight, and how many at once.

    Why: a benchmark must tell "the pipeline keeps the API busy" from "the pipeline waits on
    itself". ``GET /_sandbox/stats`` reports ``uptime_s``, ``api_busy_s`` (time with >= 1 API
    request in flight), ``api_inflight_area_s`` (the integral of requests in flight over time: its
    difference over a run divided by the run's length is the mean concurrency),
    ``api_inflight_max``, and ``api_window_s``: from the first API request's start to the last
    one's end since ``POST /_sandbox/stats`` opened the window (the span a client spent talking to
    the API, without its own start-up and post-processing). Admin requests are not counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = self._last = time.monotonic()
        self.active = 0
        self.max = 0
        self.busy = 0.0
        self.area = 0.0
        self.window_first: float | None = None
        self.window_last: float | None = None

    def open_window(self) -> None:
        with self._lock:
            self.window_first = self.window_last = None

    def _advance(self, now: float) -> None:
        if self.active:
            self.busy += now - self._last
            self.area += (now - self._last) * self.active
        self._last = now

    def enter(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            self.active += 1
            self.max = max(self.max, self.active)
            if self.window_first is None:
                self.window_first = now

    def leave(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            self.active -= 1
            self.window_last = now

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return {
                "uptime_s": round(now - self.started, 3),
                "api_busy_s": round(self.busy, 3),
                "api_inflight_area_s": round(self.area, 3),
                "api_inflight_max": self.max,
                "api_window_s": round((self.window_last or now) - self.window_first, 3)
                if self.window_first is not None
                else 0.0,
            }
