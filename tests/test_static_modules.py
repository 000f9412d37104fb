"""The page is ES modules coupled only through imports: a static check of static/ and templates/.

Every script a template loads is a module; no module assigns to ``window`` (or ``globalThis``) except the
entry module's one automation handle (``window.vox``), which no other module reads; every module is reached
from the entry module by imports that resolve to files, without cycles. The browser tests then check that the
page so built works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
MODULES = STATIC / "js"
ENTRY = MODULES / "main.js"
HANDLE = "vox"

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
ASSIGNMENT = re.compile(
    r"\b(?:window|globalThis|self)\s*(?:\.\s*([\w$]+)|\[[^\]]*\])(?:\s*\.\s*[\w$]+|\s*\[[^\]]*\])*"
    r"\s*(?:=(?!=)|[-+*/%&|^]=|\?\?=|\|\|=|&&=|\+\+|--)"
)
ASSIGNING_CALL = re.compile(
    r"\b(?:Object\.(?:assign|defineProperty|defineProperties)|Reflect\.set)\s*\(\s*(?:window|globalThis|self)\b"
)
IMPORT = re.compile(r"""\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']""")


def code(source: str) -> str:
    """``source`` without its comments (block comments, and line comments that start a line or follow a space)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(^|\s)//[^\n]*", r"\1", source)


def global_writes(source: str) -> list[str]:
    """Each assignment to a property of the global object in ``source``, as written."""
    text = code(source)
    return [m.group(0) for m in ASSIGNMENT.finditer(text)] + [m.group(0) for m in ASSIGNING_CALL.finditer(text)]


def imports(path: Path) -> list[Path]:
    return [(path.parent / (a or b)).resolve() for a, b in IMPORT.findall(code(path.read_text()))]


def test_the_detector_sees_global_writes_and_nothing_else():
    writes = [
        "window.voxUI = {};", "window['x'] = 1;", "globalThis.speak = f;", "window.vox.player = p;",
        "window.count += 1;", "self.x ??= 2;", "Object.assign(window, { a });",
        "Object.defineProperty(window, 'a', {});",
    ]  # fmt: skip
    for line in writes:
        assert global_writes(line), line
    reads = [
        "if (window.AudioContext === undefined) {}", "const C = window.AudioContext || window.webkitAudioContext;",
        "window.confirm('Sure?');", "// window.x = 1", "/* window.y = 2 */", "a = window.location.origin;",
    ]  # fmt: skip
    for line in reads:
        assert not global_writes(line), line


def test_templates_load_only_module_scripts():
    """Scripts are ES modules; the only other script element is inert JSON data the server embeds."""
    templates = sorted((ROOT / "templates").glob("*.html"))
    assert templates
    loaded = []
    for template in templates:
        for attrs in SCRIPT_TAG.findall(template.read_text()):
            if re.search(r"""\btype\s*=\s*["']application/json["']""", attrs) and "src" not in attrs:
                continue
            assert re.search(r"""\btype\s*=\s*["']module["']""", attrs), f"{template.name}: <script{attrs}>"
            loaded.append(attrs)
    assert len(loaded) == 1 and "js/main.js" in loaded[0], loaded


def test_only_the_entry_module_sets_a_global_and_only_its_handle():
    scripts = sorted(STATIC.rglob("*.js"))
    assert ENTRY in scripts
    for path in scripts:
        writes = global_writes(path.read_text())
        if path == ENTRY:
            assert [w.split("=")[0].strip() for w in writes] == [f"window.{HANDLE}"], writes
        else:
            assert not writes, f"{path.relative_to(ROOT)} writes a global: {writes}"
            assert not re.search(rf"\bwindow\s*\.\s*{HANDLE}\b", code(path.read_text())), (
                f"{path.relative_to(ROOT)} reads the automation handle; modules import each other instead"
            )


def test_every_module_is_imported_from_the_entry_without_cycles():
    scripts = {p.resolve() for p in STATIC.rglob("*.js")}
    assert scripts == {p.resolve() for p in MODULES.glob("*.js")}, "a script outside static/js"
    graph = {p: imports(p) for p in scripts}
    for path, deps in graph.items():
        for dep in deps:
            assert dep in scripts, f"{path.name} imports {dep.name}, which does not exist"
    reached, stack = set(), [ENTRY.resolve()]
    while stack:
        path = stack.pop()
        if path not in reached:
            reached.add(path)
            stack.extend(graph[path])
    assert reached == scripts, f"not imported by anything: {sorted(p.name for p in scripts - reached)}"

    done: set[Path] = set()

    def visit(path: Path, trail: tuple[Path, ...]) -> None:
        if path in trail:
            cycle = [p.name for p in trail[trail.index(path) :]] + [path.name]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if path not in done:
            for dep in graph[path]:
                visit(dep, (*trail, path))
            done.add(path)

    visit(ENTRY.resolve(), ())


def test_modules_are_small_and_say_why():
    for path in sorted(MODULES.glob("*.js")):
        text = path.read_text()
        assert text.startswith("/*"), f"{path.name} has no header comment"
        assert len(text.splitlines()) <= 400, f"{path.name} is over 400 lines"


def test_only_the_server_client_module_makes_requests():
    """Every request goes through api.js, which names the tab's session and turns failures into sentences."""
    offenders = [p.name for p in sorted(STATIC.rglob("*.js"))
                 if p.name != "api.js" and re.search(r"\bfetch\(|new EventSource\(|XMLHttpRequest", p.read_text())]
    assert not offenders, f"these modules make requests of their own: {offenders}"
