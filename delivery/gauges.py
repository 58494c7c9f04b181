"""The registry of the portal's Prometheus gauges: every app registers its own here (in its
`AppConfig.ready()`), and config.metrics turns them into /metrics at scrape time. It sits in the
bottom layer so any app may register without importing a higher one; it imports nothing of ours.

A gauge is `register_metric(name, help, labels, collect)` where `collect()` returns
`[(label_values, value), ...]`, read from the database at scrape time, so every web replica
reports the same numbers."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class MetricSource:
    name: str
    help: str
    labels: tuple[str, ...]
    collect: Callable[[], list[tuple[tuple[str, ...], float]]]


_sources: dict[str, MetricSource] = {}


def age_seconds(oldest) -> float:
    """Seconds since `oldest`, for "age of the oldest waiting row" gauges (0 when none waits)."""
    return max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0


def register_metric(name: str, help: str, labels: tuple[str, ...], collect: Callable) -> None:
    _sources[name] = MetricSource(name, help, labels, collect)


def registered() -> list[MetricSource]:
    """The registered gauges, in the order they were first registered."""
    return list(_sources.values())
