"""Development: `manage.py` (and so `make run`). Embedded defaults; DEBUG on for `runserver` only,
so a management command run by hand against a real database never shows debug pages."""

import sys

from config.env import env

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=sys.argv[1:2] == ["runserver"])
