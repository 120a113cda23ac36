"""Property-based run of schemathesis against the API's own OpenAPI schema: no server errors and
no response that breaks the schema, for every operation, called with a partner key of the
submit scope."""
import os

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kentforum.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests here go straight to the WSGI application, which would close the test's database
    connection at the end of each request; Django's own test client disconnects that signal too."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def submit_key(db, period, count_indicator, rate_indicator):
    from partnerships.models import Organisation, PartnerAPIKey
    from tests.factories import council

    key, raw = PartnerAPIKey.objects.create_key(
        name="schemathesis", partner=Organisation.objects.get(name="Kent Police"), scope="submit", rate="100000/min"
    )
    key.organisations.set([council()])
    cache.clear()
    return raw


@pytest.mark.django_db(transaction=False)
@schema.parametrize()
# In CI the examples are fixed (derandomize), so a run is repeatable; locally each run explores anew.
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=bool(os.environ.get("CI")))
def test_api_conforms_to_its_schema(case, submit_key):
    case.headers = {**(case.headers or {}), "Authorization": f"Api-Key {submit_key}"}
    case.call_and_validate(checks=CHECKS)
