"""Every rule that used to be written more than once has one definition now (README, "One home
for each rule"). Each case is a pattern and the only files of the application (Python and
templates; tests, migrations and docs aside) where it may appear: a second copy of a rule
fails here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = ("performance", "kentforum", "ambitions", "partnerships", "localities", "notifications", "templates")


def application_files():
    for top in APPLICATION:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in (".py", ".html", ".sql") and "migrations" not in path.parts:
                yield path


FILES = {str(path.relative_to(ROOT)): path.read_text() for path in application_files()}

# (what, pattern, the files where it may appear)
ONE_HOME = [
    ("the commentary limit", r"COMMENTARY_MAX_LENGTH\s*=|max_length=5000|MAX_COMMENTARY",
     {"performance/returns/validation.py"}),
    ("the commentary limit's words", r"characters; the limit is", {"performance/returns/validation.py"}),
    ("the comment limit", r"COMMENT_MAX_LENGTH\s*=|a comment may have at most", {"performance/returns/comments.py"}),
    ("the status labels", r"STATUS_LABELS\s*=|\"Within tolerance\"|\"Off target\"|\"On target\"|Not judged: incomplete",
     {"performance/catalogue/rules.py"}),
    ("the status colours", r"STATUS_TAGS\s*=|\"yellow\"", {"performance/catalogue/rules.py"}),
    ("what is off target", r"\(rules\.AMBER, rules\.RED\)|in \(AMBER, RED\)", {"performance/catalogue/rules.py"}),
    ("the upload's size limit", r"5 \* 1024 \* 1024", {"kentforum/settings/base.py"}),
    ("the upload limits' readers", r"RETURN_IMPORT_MAX_(BYTES|ROWS)",
     {"kentforum/settings/base.py", "performance/returns/imports.py"}),
    ("a complete milestone is 100% complete", r"A complete milestone is 100% complete",
     {"performance/returns/validation.py"}),
    ("the translation of a ValidationError", r"\.message_dict|\.error_dict|hasattr\([a-z_]+, \"error_dict\"\)",
     {"kentforum/errors.py"}),
    ("which periods an indicator is returned in", r"def period_kinds_for|def period_kinds\b|kind in \(\"month\"|QUARTER\}\)",
     {"performance/catalogue/periods.py"}),
    ("the refusal of a period not of an indicator's kinds", r"is not returned for",
     {"performance/catalogue/services.py"}),
    ("who may judge a KPQ", r"def can_judge|\{Role\.BOARD_MEMBER, Role\.FORUM_ADMIN\}", {"performance/dashboards/access.py"}),
    ("who may publish a board report", r"def can_publish_report", {"performance/dashboards/access.py"}),
    ("the workflow's state groups", r"EDITABLE_STATES\s*=|DONE_STATES\s*=|DECIDABLE_STATES\s*=|"
     r"\(WorkflowState\.DRAFT, WorkflowState\.RETURNED\)|\(\"submitted\", \"approved\", \"returned\"\)",
     {"performance/models/scope.py"}),
    ("the scoping of returns", r"def scope_for|def readable_returns|def visible_returns|def can_view_return",
     {"performance/models/scope.py"}),
    ("the rollup's SQL rules", r"FUNCTION kf_", {"performance/rollups/sql/rules.sql"}),
    ("the CSV cell neutralising", r"FORMULA_PREFIXES\s*=", {"kentforum/csvcells.py"}),
    ("the ranking of districts", r"Not ranked:|reverse=indicator\.polarity", {"performance/dashboards/figures.py"}),
    ("where a person lands after signing in", r"def landing_url", {"kentforum/landing.py"}),
    ("the key-holder actor", r"class KeyActor", {"kentforum/actors.py"}),
    ("judging Kent or a district against a comparator area, and why not",
     r"def compare_with_area|def neighbour_ranking|: not compared\.|Kent is not placed among them",
     {"performance/dashboards/comparisons.py"}),
    ("reading a figure typed as text", r"def parse_figure|def number_text|could be read more than one way|FIGURE_BODY\s*=",
     {"performance/returns/validation.py"}),
]


@pytest.mark.parametrize("what,pattern,homes", ONE_HOME, ids=[case[0] for case in ONE_HOME])
def test_the_rule_has_one_home(what, pattern, homes):
    found = {name for name, text in FILES.items() if re.search(pattern, text)}
    assert found <= homes, f"{what} is written outside its home {sorted(homes)}: {sorted(found - homes)}"
    assert found, f"{what}: its home {sorted(homes)} no longer holds it; update this test and the README"
