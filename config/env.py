"""The one place that reads the environment: `env` and the project's base directory."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
