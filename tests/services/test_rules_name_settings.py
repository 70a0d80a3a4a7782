"""Every rule of a meeting names the setting it reads (issue 13): a function of
``portal/services/meetings/`` that reads ``settings.<name>`` (or ``coop.settings(db).<name>``)
says ``CoopSettings.<name>`` in its docstring, so a reader finds the rule's source; one that
takes a date from the co-op's clock names ``CoopSettings.timezone``."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from portal.models import CoopSettings
from portal.services.meetings import ballots, closing, lifecycle, roll, tally

MODULES = (tally, lifecycle, roll, closing, ballots)
COLUMNS = {column.name for column in CoopSettings.__table__.columns}
# ``settings.quorum_percent``, ``coop.settings(db).notice_days``
READ = re.compile(r"\bsettings(?:\([^()]*\))?\.(\w+)")
# The clock's dates are the co-op's, in its zone: a rule taking one reads the time zone.
DATES = re.compile(
    r"\b(today|day_of|start_of_day|end_of_day|clear_days_between|last_day_to_send)\("
)


def settings_read(function: ast.FunctionDef) -> set[str]:
    """The settings a function's own code reads (its docstring left out)."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    code = "\n".join(ast.unparse(statement) for statement in body)
    read = {name for name in READ.findall(code) if name in COLUMNS}
    return read | ({"timezone"} if DATES.search(code) else set())


def rules(module) -> list[tuple[str, ast.FunctionDef]]:
    """Every function and method of ``module`` (at any depth), by qualified name."""
    found = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((f"{prefix}{child.name}", child))
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")

    walk(ast.parse(inspect.getsource(module)), f"{module.__name__}.")
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_rule_names_the_setting_it_reads(module):
    unnamed = []
    for name, function in rules(module):
        doc = ast.get_docstring(function) or ""
        for setting in sorted(settings_read(function)):
            if f"CoopSettings.{setting}" not in doc:
                unnamed.append(f"{name} reads {setting} but its docstring does not name it")
    assert not unnamed, "\n".join(unnamed)


def test_the_walk_finds_the_rules_that_read_settings():
    """The test above is not vacuous: it sees the settings the known rules read."""
    found = {
        name.rsplit(".", 1)[-1]: settings_read(function)
        for module in MODULES
        for name, function in rules(module)
    }
    assert found["notice_period"] == {"notice_days", "timezone"}
    assert found["open_voting"] == {"voting_window_days", "timezone"}
    assert found["roll_cutoff"] == {"timezone"}
    assert {"voting_mode", "quorum_percent", "special_needs_class_majority"} <= found[
        "from_settings"
    ]
