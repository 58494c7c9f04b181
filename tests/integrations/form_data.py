"""The integration form as a browser posts it: the settings, and the rule, grouping and field
mapping editors as rows (each with its management fields)."""


def rows(prefix: str, items: list[dict]) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "50"}
    for i, item in enumerate(items):
        for name, value in item.items():
            data[f"{prefix}-{i}-{name}"] = value
    return data


def integration_post(*, rules=(), group=(), mapping=None, **settings) -> dict:
    """`rules`: (label, values, then) triples; `group`: label names; `mapping`: field -> path."""
    data = {"name": "Prometheus prod", "auto_resolve": "on", "flap_window": "00:10:00", "repeat_threshold": "5",
            "repeat_window": "00:10:00", "rate_limit_per_minute": "600", **settings}
    data.update(rows("rules", [{"label": a, "values": b, "then": c} for a, b, c in rules]))
    data.update(rows("group", [{"label": g} for g in group]))
    data.update({f"map-{k}": v for k, v in (mapping or {}).items()})
    return data
