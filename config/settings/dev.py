"""Development: `make run`. DEBUG on, embedded defaults."""

from config.env import env

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)
