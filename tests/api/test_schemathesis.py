"""Property-based and stateful runs of schemathesis against the API's own OpenAPI schema, for
every operation in /api/schema/: called with a partner key of the submit scope for one
organisation (Ashford Borough Council), and anonymously. Every response must be no server error,
carry a documented status code and content type, and match its documented schema
(not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance).

- Property runs: each operation on its own (writes also get schemathesis's coverage phase:
  boundary values, missing required fields, wrong types, methods not allowed).
- Stateful runs: sequences that follow the links schemathesis infers between operations (list ->
  item, POST -> GET and PATCH of the return it made, indicator -> a return of it), each step fed
  with what an earlier response gave, for both callers.

Generated bodies are mostly nonsense (schemathesis draws from the schemas, and in its negative
mode breaks them on purpose), so a share of them is steered at the returns that exist here (the
fixtures' indicators, areas, period and milestones, and the ids of returns already saved in the
run) so that writes get past "unknown code" and reach the services' rules, versions and audit.

After each run (and each stateful scenario) nothing may be partly saved: every return has an
audit trail that replays to exactly what is stored (``assert_nothing_partly_saved``, shared
with the import and form fuzz).

The stateful runs are always derandomised and start each scenario from the same rows and an
empty throttle cache (``stateful_machine``), so they are repeatable; the property runs are
derandomised in CI (``CI`` set) and explore anew locally. The number of cases (at least MIN_CASES) is
printed and written to ``schemathesis-summary.json`` in pytest's base temporary directory."""
import json
import logging
import os
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kentforum.wsgi import application
from performance.catalogue import periods, services
from performance.returns import validation, workflow
from tests.performance.test_import_fuzz import assert_nothing_partly_saved

pytestmark = pytest.mark.slow  # the evidence tier (README, "Tests")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Fuzzing-phase examples per operation: reads, writes with the submit key, anything anonymously.
# The coverage phase (boundary values, missing required fields, wrong types, methods not allowed)
# adds its own cases to the writes; on the reads it would triple the run for little.
READ_EXAMPLES, WRITE_EXAMPLES, ANONYMOUS_EXAMPLES = 10, 40, 8
MIN_CASES = 1000
CALLERS = ("submit-key", "anonymous")


def load_schema(*, coverage: bool):
    """The schema as the API serves it, with the hooks below."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.phases.coverage.enabled = coverage
    loaded.hook(flatmap_body)
    loaded.hook(flatmap_path_parameters)
    return loaded


# The places the fixtures make real (see `seed_returns` below), and some that do not exist.
OPEN_SLOT = ("T-FUZZ", "E07000105", "2012/13 Q1")  # Ashford's count with no return at first
INDICATOR_CODES = ["T-KSI", "T-RECYC", "T-FUZZ", "T-NOPE"]
GSS_CODES = ["E07000105", "E07000108", "E99999999"]
PERIOD_LABELS = ["2012/13 Q1", "2011/12 Q4", "2030/31 Q9"]  # open, locked, none
BREAKDOWN_KEYS = ["severity:fatal", "severity:serious", "age_band:under-16", "nope:nope"]
MILESTONES: list[int] = []  # filled by `seed_returns` before each run
CASES: Counter = Counter()  # (caller, operation, method sent, status) -> cases


def _sometimes(strategy, *, sane):
    """Mostly (3 in 4) the sane strategy, else the given one."""
    return st.one_of(sane, sane, sane, strategy)


def _figure():
    """A figure as a partner system might send it: plausible, or JSON numbers (huge ones too) and strings."""
    wild = st.one_of(
        st.none(), st.integers(-10**25, 10**25), st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(min_value=-10**6, max_value=10**16, places=4, allow_nan=False).map(str),
        st.sampled_from(["12.5", "1e3", "NaN", "Infinity", "-0", "9999999999999999.9999", "0.0001", "0.00001", "", "-1"]),
    )
    return _sometimes(wild, sane=st.integers(0, 400))


def _text():
    wild = st.one_of(st.text(max_size=30), st.sampled_from(["\x00", "=1+1", "x" * 5001, "\u202eevil", "<script>"]))
    return _sometimes(wild, sane=st.sampled_from(["", "Figures from the DfT return."]))


@st.composite
def _indicator_item(draw, slot=True):
    item = {}
    if slot:
        codes = draw(_sometimes(st.tuples(st.sampled_from(INDICATOR_CODES), st.sampled_from(GSS_CODES),
                                          st.sampled_from(PERIOD_LABELS)), sane=st.just(OPEN_SLOT)))
        item.update(zip(("indicator", "locality", "period"), codes))
    for name in ("value", "numerator", "denominator"):
        if draw(st.booleans()):
            item[name] = draw(_figure())
    if draw(st.integers(0, 3)) == 0:
        keys = st.sampled_from(BREAKDOWN_KEYS[:2]) if draw(st.booleans()) else st.sampled_from(BREAKDOWN_KEYS)
        item["breakdowns"] = draw(st.dictionaries(keys, _figure(), max_size=3))
    if draw(st.booleans()):
        item["commentary"] = draw(_text())
    if draw(st.booleans()) or not slot:
        item["version"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        item["submit"] = True
        item["confirm_warnings"] = draw(st.booleans())
    return item


@st.composite
def _milestone_item(draw, slot=True):
    item = {}
    if slot:
        item["milestone"] = draw(_sometimes(st.sampled_from(MILESTONES + [10**9]), sane=st.just(MILESTONES[-1])))
        item["period"] = draw(_sometimes(st.sampled_from(PERIOD_LABELS), sane=st.just(OPEN_SLOT[2])))
    if slot or draw(st.booleans()):
        item["status"] = draw(st.sampled_from(["not_started", "on_track", "at_risk", "off_track", "complete", "done"]))
    if slot or draw(st.booleans()):
        item["percent_complete"] = draw(_sometimes(st.integers(-5, 105), sane=st.sampled_from([0, 40, 100])))
    if draw(st.booleans()):
        item["revised_date"] = draw(st.sampled_from(["2012-12-31", "2012-01-01", "2012-02-30", None]))
    if draw(st.booleans()):
        item["commentary"] = draw(_text())
    if draw(st.booleans()) or not slot:
        item["version"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        item["submit"] = True
    return item


def flatmap_body(context, body):
    """Steer half of the write bodies at real returns (valid or nearly so); leave the rest as
    schemathesis generated them."""
    operation = context.operation
    if operation is None or operation.method.upper() not in ("POST", "PATCH"):
        return st.just(body)
    patch = operation.method.upper() == "PATCH"
    if operation.path.endswith("/indicator-returns/bulk/"):
        steered = st.lists(_indicator_item(), min_size=1, max_size=3)
    elif "/indicator-returns/" in operation.path:
        steered = _indicator_item(slot=not patch)
    elif "/milestone-returns/" in operation.path:
        steered = _milestone_item(slot=not patch)
    else:
        return st.just(body)
    return st.one_of(st.just(body), steered, steered)


def flatmap_path_parameters(context, path_parameters):
    """Return ids: half the time "seeded<n>", the n-th return there is (resolved in the test)."""
    if context.operation is None or "-returns/{id}" not in context.operation.path or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.integers(0, 7).map(lambda n: {**path_parameters, "id": f"seeded{n}"}))


def resolve_return_id(case):
    from performance.models import IndicatorReturn, MilestoneReturn

    ident = str((case.path_parameters or {}).get("id", ""))
    if not ident.startswith("seeded") or not ident[6:].isdigit():
        return
    model = MilestoneReturn if "milestone-returns" in case.operation.path else IndicatorReturn
    ids = list(model.objects.filter(**({} if model is MilestoneReturn else {"breakdown__isnull": True}))
               .order_by("id").values_list("id", flat=True))
    case.path_parameters["id"] = str(ids[int(ident[6:]) % len(ids)]) if ids else "0"


schema = load_schema(coverage=False)
reads = schema.include(method="GET")
writes = load_schema(coverage=True).exclude(method="GET")


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


@pytest.fixture(autouse=True)
def quiet_security_log():
    """Thousands of requests would write thousands of "api_key_used" lines; the security log has its own tests."""
    log = logging.getLogger("kentforum.security")
    level = log.level
    log.setLevel(logging.WARNING)
    yield
    log.setLevel(level)


def seed_returns(officer, other_officer, approver):
    """Returns in every state for the runs to read and change: Ashford's KSI draft with its
    severity breakdown, Ashford's recycling approved (published), Dover's KSI draft (not the
    key's), and a draft milestone return of each council; Ashford's count T-FUZZ and a third
    milestone of Ashford's with no return yet; a locked quarter, 2011/12 Q4."""
    import datetime
    from decimal import Decimal

    from ambitions.models import DeliveryPlan
    from performance.models import BreakdownCategory, Indicator, Milestone, ReportingPeriod
    from tests.factories import IndicatorFactory, council, district

    period = ReportingPeriod.objects.get(label="2012/13 Q1")
    locked, _ = services.period_ensure(span=periods.quarter(2011, 4))
    services.period_lock(period=locked)
    ksi, recycling = Indicator.objects.get(code="T-KSI"), Indicator.objects.get(code="T-RECYC")
    services.assignment_ensure(organisation=council(), locality=district(),
                               indicator=IndicatorFactory(code="T-FUZZ", name="Fuzzed count", min_value=Decimal(0)))
    severity = {c.code: c.pk for c in BreakdownCategory.objects.filter(dimension__code="severity")}
    workflow.indicator_return_save_draft(
        indicator=ksi, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(16), breakdowns={severity["fatal"]: Decimal(2), severity["serious"]: Decimal(14)}),
    )
    published = workflow.indicator_return_save_draft(
        indicator=recycling, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(45), denominator=Decimal(100)),
    )
    workflow.indicator_return_submit(ret=published, expected_version=published.version, user=officer)
    workflow.return_approve(ret=published, expected_version=published.version, user=approver)
    workflow.indicator_return_save_draft(
        indicator=ksi, locality=district("Dover"), period=period, organisation=council("Dover District Council"),
        user=other_officer, figures=validation.IndicatorFigures(value=Decimal(9)),
    )
    plan = DeliveryPlan.objects.order_by("pk").first()
    MILESTONES[:] = []
    for user, owner in ((officer, "Ashford Borough Council"), (other_officer, "Dover District Council")):
        milestone = Milestone.objects.create(title=f"Milestone of {owner}", delivery_plan=plan, owner=council(owner),
                                             due_date=datetime.date(2012, 9, 30))
        MILESTONES.append(milestone.pk)
        workflow.milestone_return_save_draft(milestone=milestone, period=period, organisation=council(owner), user=user,
                                       progress=validation.MilestoneProgress(status="on_track", percent_complete=20))
    MILESTONES.append(Milestone.objects.create(title="Ashford's milestone with no return yet", delivery_plan=plan,
                                               owner=council(), due_date=datetime.date(2012, 12, 31)).pk)


@pytest.fixture
def seeded(db, period, count_indicator, rate_indicator, officer, other_officer, approver):
    seed_returns(officer, other_officer, approver)
    yield
    assert_nothing_partly_saved()


def submit_key_headers():
    """A partner key of Kent Police with the submit scope for Ashford Borough Council."""
    from partnerships.models import Organisation, PartnerAPIKey
    from tests.factories import council

    key, raw = PartnerAPIKey.objects.create_key(
        name="schemathesis", partner=Organisation.objects.get(name="Kent Police"), scope="submit", rate="100000/min"
    )
    key.organisations.set([council()])
    return {"Authorization": f"Api-Key {raw}"}


@pytest.fixture
def key_headers(seeded):
    return submit_key_headers()


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    yield CASES
    write_summary(tmp_path_factory, "schemathesis-summary.json", "schemathesis property runs", CASES)


def write_summary(tmp_path_factory, filename, title, cases):
    total = sum(cases.values())
    by_caller, by_status, operations = Counter(), Counter(), set()
    for (who, operation, _method, status), count in cases.items():
        by_caller[who] += count
        by_status[str(status)] += count
        operations.add(operation)
    report = {"cases": total, "operations": len(operations), "by_caller": by_caller,
              "by_status": dict(sorted(by_status.items())),
              "by_operation": {f"{who} {op} (sent {method}) {status}": n for (who, op, method, status), n in sorted(cases.items())}}
    path = tmp_path_factory.getbasetemp() / filename
    path.write_text(json.dumps(report, indent=1))
    print(f"\n{title}: {total} cases over {len(operations)} operations; by caller {dict(by_caller)}; "
          f"by status {report['by_status']}; summary in {path}")


def run_case(case, who, headers, validate=True):
    # The anonymous rate limit (300/min per address) would otherwise answer most of the run with 429.
    cache.clear()
    resolve_return_id(case)
    case.headers = {**{k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}, **headers}
    response = case.call()
    CASES[(who, case.operation.label, case.method.upper(), response.status_code)] += 1
    if validate:
        case.validate_response(response, checks=CHECKS)
    return response


def run_settings(max_examples):
    # In CI the examples are fixed (derandomize), so a run is repeatable; locally each run explores anew.
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")), database=None)


@pytest.mark.django_db(transaction=False)
@reads.parametrize()
@run_settings(READ_EXAMPLES)
def test_reads_conform_to_the_schema_for_a_submit_key(case, key_headers, summary):
    run_case(case, "submit-key", key_headers)


@pytest.mark.django_db(transaction=False)
@writes.parametrize()
@run_settings(WRITE_EXAMPLES)
def test_writes_conform_to_the_schema_for_a_submit_key(case, key_headers, summary):
    run_case(case, "submit-key", key_headers)


@pytest.mark.django_db(transaction=False)
@schema.parametrize()
@run_settings(ANONYMOUS_EXAMPLES)
def test_every_operation_conforms_to_the_schema_anonymously(case, seeded, summary):
    run_case(case, "anonymous", {})


# --- Stateful: sequences that follow the links between operations --------------------------------
# The schema names no OpenAPI links; schemathesis infers them from the responses and path
# parameters (33 here: list -> item, POST -> GET/PATCH of the return made, indicator -> a return
# of it ...), and each scenario feeds an operation with what an earlier response gave.

STATEFUL_EXAMPLES, STATEFUL_STEPS = 30, 10


def stateful_machine(who: str, headers: dict):
    """The inferred-links state machine of the API, calling it as ``who`` with ``headers``,
    counting every step and holding each response to the same four checks.

    Each scenario starts from the same state: the seeded rows and an empty throttle cache.
    What a scenario writes is checked (nothing partly saved) and rolled back to a savepoint at
    its end. The steps a scenario can take (which links a response opens, which items a list
    offers) are drawn from the responses, so a scenario run on an earlier one's rows would draw
    differently from the same choices; Hypothesis, which replays choice prefixes, then fails the
    run as ``FlakyStrategyDefinition`` ("data generation behaved differently between test
    cases"), with no defect in the portal."""

    class Workflow(schema.as_state_machine()):
        def setup(self):
            cache.clear()
            self.savepoint = transaction.savepoint()

        def teardown(self):
            try:
                assert_nothing_partly_saved()
            finally:
                transaction.savepoint_rollback(self.savepoint)
                cache.clear()

        def call(self, case, **kwargs):
            return run_case(case, who, headers, validate=False)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, recorder=self.recorder)

    return Workflow


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("who", CALLERS)
def test_linked_sequences_conform_to_the_schema(who, seeded, summary):
    """Always derandomised (the same scenarios on every run, CI or not), each scenario from the
    same state (``stateful_machine``): a run is repeatable, and a failure is the portal's."""
    from performance.models import IndicatorReturn, MilestoneReturn, ReturnEvent

    def stored():
        return IndicatorReturn.objects.count(), MilestoneReturn.objects.count(), ReturnEvent.objects.count()

    headers = submit_key_headers() if who == "submit-key" else {}
    before = sum(n for (caller, *_), n in CASES.items() if caller == f"stateful {who}")
    seeded_rows = stored()
    stateful_machine(f"stateful {who}", headers).run(settings=settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), derandomize=True,
    ))
    assert stored() == seeded_rows, "each scenario's writes are rolled back at its end"
    steps = sum(n for (caller, *_), n in CASES.items() if caller == f"stateful {who}") - before
    linked = {op for (caller, op, _, _) in CASES if caller == f"stateful {who}"}
    assert steps >= STATEFUL_EXAMPLES and len(linked) >= 10, f"{steps} steps over {sorted(linked)}"


PROPERTY_TESTS = ("test_reads_conform", "test_writes_conform", "test_every_operation_conforms", "test_linked_sequences")


def test_every_operation_ran_and_enough_cases(request):
    """Runs after the property tests of this module (pytest keeps the file's order): every
    operation had cases for both callers, and there were at least MIN_CASES in all."""
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    if not all(name in " ".join(selected) for name in PROPERTY_TESTS):
        pytest.skip("counts only a run of the whole module")
    operations = {r.ok().label for r in schema.get_all_operations()}
    covered = {(who, op) for who, op, _, _ in CASES}
    missing = sorted({(who, op) for who in CALLERS for op in operations} - covered)
    assert not missing, f"operations without cases: {missing}"
    assert sum(CASES.values()) >= MIN_CASES, f"only {sum(CASES.values())} cases"
