"""The /metrics endpoint's collector: the gauges the apps registered in the bottom layer's
registry (delivery.gauges), read from the database at scrape time, so every web replica reports
the same numbers."""

from prometheus_client.core import GaugeMetricFamily

from delivery.gauges import registered


class PortalCollector:
    def collect(self):
        for source in registered():
            family = GaugeMetricFamily(source.name, source.help, labels=list(source.labels))
            for label_values, value in source.collect():
                family.add_metric(list(label_values), value)
            yield family
