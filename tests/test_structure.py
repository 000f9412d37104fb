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


ROUTES = VOX / "web" / "routes"
REACH_IN = re.compile(r"\b(rt|runtime\(\))\.(voices|books|hub|engines|jobs|chats|listening|stt|config|replies)\.")


def runtime_reach_ins(source: str, verbs: set[str]) -> list[str]:
    """Where a route module uses the Runtime other than by calling one of ``verbs``: an attribute read (``rt.x``
    not called, ``rt.x.y``, ``runtime().x``), a private or unknown name, or the runtime handed to a function that is
    not defined in the module (which would reach in out of sight). The runtime is ``runtime()``, a name assigned
    from it, or a parameter annotated ``Runtime``."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    local_functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    names = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and _is_runtime_call(n.value)
             for t in n.targets if isinstance(t, ast.Name)}  # fmt: skip
    names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg) and n.annotation is not None
              and ast.unparse(n.annotation) == "Runtime"}  # fmt: skip

    def is_runtime(node: ast.AST) -> bool:
        return _is_runtime_call(node) or (isinstance(node, ast.Name) and node.id in names)

    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}: {ast.unparse(node)}"
        if isinstance(node, ast.Attribute) and is_runtime(node.value):
            call = parents.get(node)
            if not (isinstance(call, ast.Call) and call.func is node) or node.attr not in verbs:
                found.append(where)
        elif isinstance(node, ast.Call) and any(is_runtime(a) for a in [*node.args, *(k.value for k in node.keywords)]):
            if not (isinstance(node.func, ast.Name) and node.func.id in local_functions):
                found.append(where)
    return found


def _is_runtime_call(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "runtime"


def runtime_verbs() -> set[str]:
    from vox.runtime import Runtime

    return {name for name in dir(Runtime) if not name.startswith("_") and callable(getattr(Runtime, name))}


@pytest.mark.parametrize("path", sorted(ROUTES.glob("*.py")), ids=lambda p: p.name)
def test_routes_call_runtime_verbs_only(path):
    """A route asks the Runtime for what it wants by name; it never reaches into the Runtime's parts."""
    source = path.read_text(encoding="utf-8")
    assert not runtime_reach_ins(source, runtime_verbs()), "\n".join(runtime_reach_ins(source, runtime_verbs()))
    assert not REACH_IN.search(source), REACH_IN.search(source)


def test_the_route_check_finds_every_kind_of_reach_in():
    verbs = runtime_verbs()
    bad = {
        "rt = runtime()\nrt.voices.list()": 1, "runtime().engines.get().sample_rate": 1,
        "def f(rt: Runtime):\n    return rt.config": 1, "x = runtime().hub": 1, "runtime()._quiesce(1)": 1,
        "rt = runtime()\nspeakers.speak(rt, 'hi')": 1, "runtime().no_such_verb()": 1,
    }  # fmt: skip
    for source, count in bad.items():
        assert len(runtime_reach_ins(source, verbs)) == count, source
    good = "rt = runtime()\nrt.speak('hi')\ndef g(rt: Runtime):\n    return rt.stop()\ng(rt)\nruntime().status()"
    assert runtime_reach_ins(good, verbs) == []
    assert REACH_IN.search("x = rt.engines.turns.busy") and REACH_IN.search("runtime().books.list()")


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


def test_the_web_layer_finds_the_page_and_its_files_from_where_it_lives(tmp_path):
    """Modules that find files by path (templates, static, config) keep finding them after a move."""
    from vox.config import Config
    from vox.runtime import Runtime
    from vox.web.app import create_app

    config = Config()
    config.voices.dir = str(tmp_path)
    client = create_app(config, Runtime(config)).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/static/js/main.js").status_code == 200
