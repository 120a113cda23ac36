"""The house's layout, checked: performance/'s wings import only downwards (import-linter's
contracts in pyproject.toml), no module is in an import circle, no function hides an import, no
module reaches into another's private names, and no room outgrows about 500 lines.
README, "Where things live"."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("performance", "kentforum", "ambitions", "partnerships", "localities", "notifications", "webhooks", "sso", "exchange")
MAX_LINES = 500


def app_files(*packages: str):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_wings_import_only_downwards_and_shared_helpers_import_no_wing():
    # import-linter reads the contracts ("wings", "shared-helpers") from pyproject.toml
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "2 kept, 0 broken" in completed.stdout


def test_no_module_of_the_project_is_in_an_import_circle():
    graph = grimp.build_graph(*PROJECT, cache_dir=None)
    modules = {m for m in graph.modules if ".migrations" not in m}
    circles = []
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in modules and imported != module and graph.chain_exists(imported, module):
                circles.append((module, imported))
    assert not circles, circles


def _function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top
    ]


def test_no_function_of_performance_hides_an_import():
    found = [line for path in app_files("performance") for line in _function_level_imports(path)]
    assert not found, found


def test_no_module_uses_a_private_name_of_another():
    found = []
    for path in app_files(*PROJECT):
        tree = ast.parse(path.read_text())
        modules = set()  # names bound to project modules by ``from package import module``
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {alias.name}")
                    modules.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and node.attr != "_meta"):  # Django's model options: public, despite the underscore
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not found, found


@pytest.mark.parametrize("path", list(app_files("performance")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_room_of_performance_outgrows_about_500_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
