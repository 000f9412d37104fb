"""The shape of the code, checked: no import cycles, layers that stay apart, one stop path, small modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VOX = ROOT / "vox"
MODULES = sorted(VOX.rglob("*.py"))
MAX_LINES = 400
LONG_REASON = "Why this module is long:"
WEB_LAYER = ("vox/web/",)
"""The only modules that may import Flask or werkzeug: domain code does not speak HTTP."""
ROOT_MODULES = {"__init__.py", "runtime.py", "errors.py", "config.py", "validate.py"}
"""What the root of vox/ keeps: what every room shares. Everything else lives in a package named for its concern."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (type-checking blocks and functions included: a
    dependency is a dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    name = module_name(path) if path.is_relative_to(ROOT) else path.stem
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def vox_graph() -> dict[str, set[str]]:
    names = {module_name(p): p for p in MODULES}
    graph = {}
    for name, path in names.items():
        graph[name] = {i for i in imports_of(path) if i in names and i != name}
    return graph


def test_the_import_graph_of_vox_has_no_cycles():
    graph = vox_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_package_facades_do_not_count_as_cycles_but_submodules_importing_their_parent_package_would():
    # A self-check of the checker: a parent package importing its submodule is an edge parent -> child only.
    graph = vox_graph()
    assert "vox.engines.registry" in graph["vox.engines"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small_or_say_why(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert lines <= MAX_LINES or LONG_REASON in doc, f"{lines} lines and no '{LONG_REASON}' in its docstring"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_web_layer_speaks_http(path):
    rel = str(path.relative_to(ROOT))
    if rel.startswith(WEB_LAYER):
        return
    web = {i for i in imports_of(path) if i.split(".")[0] in ("flask", "werkzeug")}
    assert not web, f"{rel} imports {sorted(web)}: raise a vox.errors exception instead"


def test_every_stop_goes_through_the_controller():
    """Outside vox/jobs/controller.py nothing stops a job or sets its cancel signal directly."""
    offenders = []
    pattern = re.compile(r"\b\w*job\.stop\(|\._stop\(|\.cancel\.set\(\)")
    for path in [*MODULES, ROOT / "app.py", ROOT / "clonevoice_turbo.py"]:
        if path == VOX / "jobs" / "controller.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_root_of_vox_holds_only_the_shared_modules():
    """A new module goes into the room of its concern (see vox/__init__.py), not onto the flat floor."""
    flat = {p.name for p in VOX.glob("*.py")}
    assert flat == ROOT_MODULES, f"move {sorted(flat - ROOT_MODULES)} into a package"


@pytest.mark.parametrize("package", sorted(p.parent for p in VOX.rglob("__init__.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))  # fmt: skip
def test_every_package_says_what_its_room_is_for(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(doc.split()) >= 8, f"{package.relative_to(ROOT)}/__init__.py: say what the room is for"


def test_the_rest_of_vox_does_not_probe_engines_with_getattr():
    """Engines declare their capabilities; nobody asks with getattr whether an engine has something."""
    offenders = []
    for path in MODULES:
        if "engines" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"getattr\((engine|rt\.engines|self\.engines|\w+\.current)\b", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_structure_checks_can_fail(tmp_path):
    """The cycle finder and the stop-path grep do find what they look for."""
    bad = tmp_path / "mod.py"
    bad.write_text("import vox.jobs\nfrom vox import runtime\nllm_job.stop()\n")
    assert {"vox.jobs", "vox", "vox.runtime"} <= imports_of(bad)
    assert re.search(r"\b\w*job\.stop\(", bad.read_text())
    assert not re.search(r"\b\w*job\.stop\(", "self.jobs.stop(StopReason.USER)")
