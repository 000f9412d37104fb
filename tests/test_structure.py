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


ROOM_CYCLES_ALLOWED = {frozenset({"engines", "serve"})}
"""engines/remote.py is the engine served by replicas (it drives serve/); serve/replica.py builds engines: one
concern in two rooms, so that Ray is imported only with replicas."""


def test_the_rooms_import_each_other_without_cycles():
    """A picture of the imports shows rooms (packages and the root's shared modules) in layers: no room reaches
    back into a room that depends on it."""
    rooms: dict[str, set[str]] = {}
    for name, deps in vox_graph().items():
        for dep in deps:
            a, b = name.split(".")[1:2] or ["vox"], dep.split(".")[1:2] or ["vox"]
            if a != b and "vox" not in (a[0], b[0]):
                rooms.setdefault(a[0], set()).add(b[0])

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in rooms.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = {frozenset({a, b}) for a, deps in rooms.items() for b in deps if reaches(b, a)}
    assert cycles <= ROOM_CYCLES_ALLOWED, sorted(sorted(c) for c in cycles - ROOM_CYCLES_ALLOWED)


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


JOB_ENDS = {
    ("vox/runtime.py", "_finished"): "a reply is over: its Generation's producer and its sink are both done",
    ("vox/chat/conversation.py", "_events"): "a chat turn is over: its LLM reader has ended",
    ("vox/chat/conversation.py", "chat_turn"): "a chat turn whose speech could not start never began",
    ("vox/books/runner.py", "_close"): "a book render's thread has ended",
    ("vox/books/runner.py", "start"): "a book render whose plan failed never began",
    ("vox/listening/streams.py", "_recognise"): "a listening stream's worker has ended: the stream was stopped "
                                                "(through the Controller) or complete, and its last turn read",
    ("vox/listening/registry.py", "open"): "a listening stream that could not be built never began",
}  # fmt: skip
"""The only places that call ``Controller.finish``: where the work for a job has ended. A finish is bookkeeping,
never a stop: a stop is ``Controller.stop(reason, ...)``."""


def calls_in_functions(tree: ast.AST):
    """(innermost enclosing function name, call node) for every call in ``tree``."""

    def visit(node: ast.AST, function: str):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Call):
                yield function, child
            yield from visit(child, name)

    yield from visit(tree, "<module>")


def receiver_name(call: ast.Call) -> str:
    """The last name before the method: ``jobs`` for ``self.runtime.jobs.finish(...)``."""
    value = call.func.value if isinstance(call.func, ast.Attribute) else None
    return value.attr if isinstance(value, ast.Attribute) else value.id if isinstance(value, ast.Name) else ""


def stop_path_offenders(path: Path, rel: str) -> list[str]:
    offenders = []
    for function, call in calls_in_functions(ast.parse(path.read_text(encoding="utf-8"))):
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        where = f"{rel}:{call.lineno} in {function}(): {ast.unparse(call)}"
        if method == "finish" and receiver_name(call) in ("jobs", "controller") and (rel, function) not in JOB_ENDS:
            offenders.append(where + "  (a stop is Controller.stop(reason, ...))")
        if method in ("stop", "_stop") and receiver_name(call).endswith("job"):
            offenders.append(where + "  (a job is stopped by Controller.stop(reason, job=...))")
        if method == "set" and isinstance(call.func.value, ast.Attribute) and call.func.value.attr == "cancel":
            offenders.append(where + "  (a job's cancel is set by the Controller)")
    return offenders


def test_every_stop_goes_through_the_controller():
    """Outside vox/jobs/controller.py nothing stops a job, sets its cancel signal or finishes it, except where a
    job's work has ended (JOB_ENDS)."""
    offenders = []
    for path in [*MODULES, ROOT / "app.py", ROOT / "clonevoice_turbo.py"]:
        rel = str(path.relative_to(ROOT))
        if rel != "vox/jobs/controller.py":
            offenders += stop_path_offenders(path, rel)
    assert not offenders, "\n".join(offenders)


def test_every_listed_job_end_exists():
    """JOB_ENDS names real functions that finish a job (a stale entry would hide nothing, but says something false)."""
    found = {(str(p.relative_to(ROOT)), f) for p in MODULES for f, call in calls_in_functions(ast.parse(p.read_text()))
             if isinstance(call.func, ast.Attribute) and call.func.attr == "finish" and receiver_name(call) == "jobs"}
    assert set(JOB_ENDS) == found


def test_the_stop_path_check_finds_stops_outside_the_controller(tmp_path):
    bad = tmp_path / "mod.py"
    bad.write_text("def close(self):\n    self.jobs.finish(self.job)\n    llm_job.stop()\n    reply.gen.job._stop(1)\n"
                   "    job.cancel.set()\n\ndef _finished(self, job):\n    self.jobs.finish(job)\n")
    assert len(stop_path_offenders(bad, "vox/elsewhere.py")) == 5
    assert len(stop_path_offenders(bad, "vox/runtime.py")) == 4  # _finished is where a reply's job ends
    bad.write_text("self.jobs.stop(StopReason.USER)\nself.jobs.stop(StopReason.ERROR, job=job)\nenc.finish()\n"
                   "cancel = Cancel()\ncancel.set()\n")
    assert stop_path_offenders(bad, "vox/elsewhere.py") == []


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


def test_the_import_finder_finds_every_kind_of_import(tmp_path):
    bad = tmp_path / "mod.py"
    bad.write_text("import vox.jobs\nfrom vox import runtime\ndef f():\n    from vox.reply import generation\n")
    assert {"vox.jobs", "vox", "vox.runtime", "vox.reply.generation"} <= imports_of(bad)


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
