"""Each measure on the metrics page is explained in one line where it is shown, and the charts are
drawn at their own width (their 12-unit text never shrinks; tests/ui checks the pixels)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_every_measure_is_explained_where_it_is_shown(client, viewer):
    client.force_login(viewer)
    html = client.get("/reports/metrics/").content.decode()
    for measure, words in (("MTTA", "Mean time to acknowledge"), ("MTTI", "Mean time to identify"),
                           ("MTTM", "Mean time to mitigate"), ("MTTR", "Mean time to resolve")):
        assert re.search(rf'<span class="muted">{measure}</span><strong[^>]*>[^<]*</strong><small class="measure-help">{words}: declared until', html)
        assert f'<abbr title="{words}">{measure}</abbr>' in html
    assert re.search(r'<span class="muted">MTTK</span><strong[^>]*>[^<]*</strong><small class="measure-help">Mean time to know: impact began until', html)
    assert '<abbr title="Mean time to know">MTTK</abbr>' in html
    assert "MTBF: the average time from one incident of a service to its next." in html


def test_charts_keep_their_own_width(client, viewer):
    client.force_login(viewer)
    html = client.get("/reports/metrics/").content.decode()
    svgs = re.findall(r'<div class="chart-scroll" tabindex="0"><svg class="chart" id="[\w-]+" viewBox="0 0 (\d+) \d+" width="(\d+)"', html)
    assert len(svgs) >= 4 and all(box == width for box, width in svgs)
    assert 'width="100%"' not in html
