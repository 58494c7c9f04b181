"""The delivery layer: everything that leaves the portal, and the durable-task base.

It sits at the bottom of the import graph: it imports no app of the portal (not `incidents`,
`oncall`, `postmortems`, not `config`); they import it. Its parts:

- `delivery.models`: `Delivery` (one message to one destination for one purpose, with every
  attempt) and `DeliveryStatus` (pending -> sending -> sent / failed / cancelled / folded).
- `delivery.purposes`: `Purpose` and `register()`. Each app registers its purposes in its
  `AppConfig.ready()`: how to find the destination, compose the message, when a pending row is
  cancelled, rate-limit folding, what follows a send or a permanent failure; per-purpose
  settings in `settings.DELIVERY_PURPOSES` (max_attempts, lease_seconds, retry_base_seconds,
  retry_max_seconds) over `settings.DELIVERY_DEFAULTS`.
- `delivery.outbox`: `create()`, `enqueue_on_commit()`, `send_inline()`, `claim()`,
  `send_claimed()`, `deliver()`, `sweep()`, `reclaim_stale()`, `retry()`, `reopen()`,
  `cancel()`, `undelivered()`: the one claim / send / backoff / stale-reclaim / sweep.
- `delivery.tasks`: `delivery_send_task`, and the sweeps `delivery_sweep_task` (the paging
  queue's purposes, on the paging pool) and `delivery_default_sweep_task` (every other purpose),
  both by beat every DELIVERY_SWEEP_SECONDS.
- `delivery.channels`: the channel registry (`email`, `slack`, `teams`, `webhook` Standard
  Webhooks, `statuspage_webhook`), `Channel`, `ChannelError(permanent=...)`, `Destination`,
  `Receipt`, `channel_class()`, `channel_for()`.
- `delivery.messages.Message`: what a delivery says (title, body, links, severity; email
  template name and context, extra headers, attachments; a raw JSON document).
- `delivery.emails`: one email template convention, `emails/<name>_subject.txt`, `.txt`,
  `.html`; `render(name, context)`.
- `delivery.durable`: `DurableTask` (the Celery app's task class: `task.enqueue(...)` after
  commit within `settings.DURABLE_ETA_HORIZON_SECONDS`, broker refusals left to the sweeps)
  and `LateTask` (a task bound in `AppConfig.ready()`, for a module its task module imports);
  `drain()`, the loop of every sweep: missed work done in the sweep's own worker, never a
  second message.
- `delivery.safetext` (text made safe where it leaves: headers, chat markup, JSON, CSV...) and
  `delivery.netguard` (the outgoing-request guard every webhook goes through).
"""
