"""Shared fixtures. The Kent framework is loaded once per test session into the test
database (through the real loader); each test runs in a transaction that is rolled back."""
import os

import pytest
from django.db import connection

from kentforum.loaders.framework import framework_load


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        framework_load()


@pytest.fixture
def framework(transactional_db):
    """For transactional tests: the database is emptied after each of them (pytest-django runs
    them after the others), so each loads the framework it needs (idempotent) first."""
    framework_load()


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs DATABASE_URL pointing at PostgreSQL"
)
requires_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")


def pytest_collection_modifyitems(config, items):
    """Every browser flow belongs to the evidence tier: a test marked ``browser`` is ``slow`` too,
    so ``pytest -m "not slow"`` needs no Chromium."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
