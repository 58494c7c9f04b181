"""A fresh benchmark database: dropped and migrated at the start of a row that needs it."""

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections


def fresh_database() -> None:
    db = settings.DATABASES["default"]
    connections.close_all()
    if connection.vendor == "postgresql":
        import psycopg

        name = db["NAME"]
        params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None,
                  "password": db.get("PASSWORD") or None, "dbname": "postgres"}
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        from pathlib import Path

        Path(db["NAME"]).unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
