"""Prometheus metrics read from the database at scrape time, so every web replica reports the
same numbers. Apps add gauges with `register_metric(name, help, labels, fn)` where `fn()`
returns `[(label_values, value), ...]`."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily


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


class PortalCollector:
    def collect(self):
        for source in _sources.values():
            family = GaugeMetricFamily(source.name, source.help, labels=list(source.labels))
            for label_values, value in source.collect():
                family.add_metric(list(label_values), value)
            yield family
