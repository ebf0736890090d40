"""Pages do not reach into each other: no private names across objects or modules.

Only the main window wires pages together, through their signals and public methods; a
page never imports another page. Checked on the source (AST), so a new violation fails here
before anyone has to notice it in review.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "studio" / "ui"
CHECKED = sorted([UI / "main_window.py", UI / "app.py", *(UI / "pages").glob("*.py")])
OWN = {"self", "cls"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _owner_is_self(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in OWN
    # super()._method() is the object's own
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def violations(source: str) -> Iterator[str]:
    """``line: what`` for each reach into another object's or module's private names."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if not _owner_is_self(node.value):
                yield f"{node.lineno}: {ast.unparse(node)}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("studio"):
            for alias in node.names:
                if _private(alias.name):
                    yield f"{node.lineno}: from {node.module} import {alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and not _owner_is_self(node.args[0])
        ):
            yield f"{node.lineno}: {ast.unparse(node)} (use the attribute, or a public method)"


def page_imports(path: Path) -> list[str]:
    """The other page modules that the page module at ``path`` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        found += [
            m
            for m in modules
            if m.startswith("studio.ui.pages.") and m != f"studio.ui.pages.{path.stem}"
        ]
    return found


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(UI)))
def test_no_private_names_of_other_objects(path: Path) -> None:
    found = list(violations(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name} reaches into private names:\n" + "\n".join(found)


@pytest.mark.parametrize("path", sorted((UI / "pages").glob("*.py")), ids=lambda p: p.name)
def test_a_page_never_imports_another_page(path: Path) -> None:
    assert page_imports(path) == []


def test_the_checks_catch_what_they_are_for() -> None:
    bad = (
        "from studio.ui.widgets.plots import _style_plot\n"
        "self.setup_page._save_dialog\n"
        "getattr(self.dataset_page, 'loaded', None)\n"
    )
    assert len(list(violations(bad))) == 3
    good = "self._x\ncls._y\nsuper()._z()\nobj.__class__\ngetattr(self, '_a', 0)\n"
    assert list(violations(good)) == []
