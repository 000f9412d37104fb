"""``make bench`` / ``make bench-quick``: run every benchmark, print one table, write bench/RESULTS.md.

Each bench module has ``run(quick) -> list[dict]`` returning rows with ``what``, ``value``, ``target`` and
``ok``; rows that carry ``measure`` and ``limit`` (lower is better) are also checked in quick mode, where a
row fails CI only when it is more than 2x past its limit, so a noisy shared machine does not fail CI.
A row a module could not measure (a missing part, ``common.not_measured``) fails both runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

MODULES = [
    "bench_text", "bench_speech_text", "bench_server", "bench_pacing", "bench_soak", "bench_browser",
    "bench_speakers", "bench_llm", "bench_turbo", "bench_apps", "bench_serve", "bench_books", "bench_listen",
]  # fmt: skip
QUICK_SLACK = 2.0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.platform()}, Python {python}"


def row_order(r: dict) -> tuple:
    """The issue's numbering first (1, 1a, 2 ... 10), then the text layer's T rows."""
    m = re.match(r"(T?)(\d+)(.*)", str(r.get("id", "")))
    return (1, 0, "") if m is None else (m.group(1) == "T", int(m.group(2)), m.group(3))


def duplicate_ids(rows_by_module: dict[str, list[dict]]) -> list[str]:
    """Row ids given more than once, within a module or across modules, each with the modules that gave it. The
    table, RESULTS.md and the README name rows by id, so one id must mean one row."""
    givers: dict[str, list[str]] = {}
    for module, rows in rows_by_module.items():
        for r in rows:
            givers.setdefault(str(r.get("id", "")), []).append(module)
    return [f"row id {id_!r} is given {len(by)} times, by {', '.join(by)}" for id_, by in givers.items() if len(by) > 1]


def table(rows: list[dict]) -> str:
    head = ["#", "what", "value", "target", "ok"]
    lines = [head] + [[r.get("id", ""), r["what"], str(r["value"]), str(r.get("target", "")),
                       "yes" if r.get("ok") else ("-" if r.get("ok") is None else "NO")] for r in rows]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="CI-sized run (< 2 min); fails only on > 2x regressions")
    p.add_argument("--only", nargs="*", help="bench modules to run")
    args = p.parse_args()
    unknown = [name for name in args.only or [] if name not in MODULES]
    if unknown:
        p.error(f"no bench module {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    by_module: dict[str, list[dict]] = {}
    failures: list[str] = []
    started = time.monotonic()
    for name in args.only or MODULES:
        t0 = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            got = module.run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failures.append(f"{name} crashed")
            continue
        print(f"[{name}: {time.monotonic() - t0:.0f} s]", file=sys.stderr)
        by_module[name] = got
    duplicates = duplicate_ids(by_module)
    for d in duplicates:  # said at once and again at the end: a mislabelled table must not pass unnoticed
        print(f"BENCH FAILURE: {d}", file=sys.stderr)
    failures += duplicates
    rows = sorted((r for got in by_module.values() for r in got), key=row_order)
    for r in rows:
        if "not_measured" in r:  # make test installs every part, so nothing may go unmeasured
            failures.append(f"{r['id']} {r['what']}: not measured: {r['not_measured']}")
        measure, limit = r.get("measure"), r.get("limit")
        if args.quick and measure is not None and limit is not None and measure > QUICK_SLACK * limit:
            failures.append(f"{r['what']}: {r['value']} is more than {QUICK_SLACK}x past {r['target']}")
    text = table(rows)
    print(text)
    if not args.quick and not args.only and not duplicates:  # RESULTS.md: the whole table, measured at one commit
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
        (HERE / "RESULTS.md").write_text(
            f"# Vox benchmark results\n\n`make bench` on {time.strftime('%Y-%m-%d')}, "
            f"commit {commit.strip() or '?'}\n\n"
            f"Machine: {machine()}\n\n{text}\n\nTotal bench time: {time.monotonic() - started:.0f} s. "
            "What profiling found: [PROFILE.md](PROFILE.md).\n"
        )
        print(f"\nwrote {HERE / 'RESULTS.md'}")
    for f in failures:
        print(f"BENCH FAILURE: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
