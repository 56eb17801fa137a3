"""Every public module states its API: a docstring, an ``__all__`` that names what it defines,
and a docstring for each exported class and function (pydantic's test_exports, per module)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import pkgutil

import pytest

import tuishou

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(tuishou.__path__, "tuishou.")
    if not any(part.startswith("_") for part in info.name.split(".")[1:])
    and info.name != "tuishou.ledger.migrations.env"  # a script Alembic runs, not a module
)


def test_the_package_is_laid_out_by_concept():
    top = {info.name: info.ispkg for info in pkgutil.iter_modules(tuishou.__path__)}
    folders = {name for name, is_package in top.items() if is_package}
    assert {
        "analysis",
        "cli",
        "engine",
        "io",
        "ledger",
        "members",
        "migration",
        "rulebook",
        "testing",
    } <= folders
    modules = set(top) - folders - {"__main__"}
    assert (
        len(modules) <= 16
    )  # docs/architecture.md: about 15 modules at the top, the rest in folders


@pytest.mark.parametrize("name", MODULES)
def test_every_public_module_documents_and_lists_its_api(name):
    module = importlib.import_module(name)
    assert inspect.getdoc(module), f"{name} has no docstring"
    exported = getattr(module, "__all__", None)
    if module.__file__ and module.__file__.endswith("__init__.py") and exported is None:
        return  # a package that only introduces its modules
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not have"
    defined = [
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and v.__module__ == name
    ]
    assert sorted(set(defined) - set(exported)) == [], f"{name} defines public names it hides"
    values = {n: getattr(module, n) for n in exported}
    undocumented = [
        n
        for n, v in values.items()
        if (inspect.isfunction(v) or inspect.isclass(v)) and not inspect.getdoc(v)
    ]
    assert undocumented == [], f"{name}: exported without a docstring"


def _private_imports(path: pathlib.Path, package: str) -> list[str]:
    """``from tuishou.x import _name`` in ``path``, unless ``tuishou.x`` is in the same private
    package (``tuishou.testing._policies`` importing from ``tuishou.testing._orders``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tuishou"):
            source = node.module or ""
            own = any(part.startswith("_") for part in source.split(".")[1:]) and (
                source.rsplit(".", 1)[0] == package
            )
            for alias in node.names:
                if alias.name.startswith("_") and not own and alias.name != "__version__":
                    found.append(f"{path.name}:{node.lineno} imports {source}.{alias.name}")
    return found


def test_no_module_reads_another_modules_private_names():
    """docs/architecture.md: what one module shares with another is public, in its __all__."""
    root = pathlib.Path(tuishou.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        package = ".".join(parts[:-1])
        found += _private_imports(path, package)
    assert found == []
