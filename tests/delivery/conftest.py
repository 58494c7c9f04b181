"""A purpose of the tests' own, registered for the test that asks for it, sending to a local
HTTP receiver (the far end over a real socket)."""

from dataclasses import dataclass, field

import pytest

from delivery import purposes
from delivery.channels import Destination
from tests.notifications.conftest import receiver, smtp_server  # noqa: F401  (fixtures)


@dataclass
class Probe:
    """The hooks' state: what they were asked and what they answer."""

    url: str = ""
    cancel: str = ""
    fold_into: object = None
    failed: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    locked: list = field(default_factory=list)
    refuse_lock: bool = False


@pytest.fixture
def probe(receiver, monkeypatch, settings):  # noqa: F811
    state = Probe(url=receiver.url + "/hook")
    settings.DELIVERY_PURPOSES = {**settings.DELIVERY_PURPOSES, "probe": {"max_attempts": 3, "lease_seconds": 5,
                                                                          "retry_base_seconds": 10, "retry_max_seconds": 25}}

    def lock(row, from_sweep):
        state.locked.append((row.pk, from_sweep))
        return not state.refuse_lock

    def fold(row, now):
        return (state.fold_into, "Rate limit: folded.") if state.fold_into is not None else None

    purpose = purposes.Purpose(
        name="probe", destination=lambda row: Destination(target=state.url, secret="whsec_" + "A" * 44),
        cancel_reason=lambda row: state.cancel, lock=lock, fold=fold,
        after_sent=lambda row, receipt: state.sent.append((row.pk, receipt.status_code)) or [],
        after_failed=lambda row, error: state.failed.append((row.pk, error)) or [],
    )
    monkeypatch.setitem(purposes._registry, "probe", purpose)
    state.purpose = purpose
    return state
