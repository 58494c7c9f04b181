"""Every state change of the integrations app, one function per verb, one module per concern:

- `configuration`: integrations themselves (create, change, rotate or revoke a key, archive,
  maintenance windows of one integration);
- `ingest`: recording alerts and opening, joining, reopening or resolving their incidents;
- `heartbeats`: pings, missed-heartbeat checks and their sweep;
- `runbooks`: saving runbooks.

The HTTP endpoints that receive alerts are in `incidents.integrations.receivers`.
"""
