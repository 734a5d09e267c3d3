"""The house keeps its shape: no import cycles, data flowing one way, heavy libraries only in
the backends, lazy imports where they matter, and a pinned public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sheetsync

PACKAGE = Path(sheetsync.__file__).resolve().parent
REPO = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts}


def _type_checking_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name | ast.Attribute)
            and "TYPE_CHECKING" in ast.unparse(node.test))


def _imports(name: str) -> set[str]:
    """The sheetsync modules ``name`` imports, at any depth of its code (lazy imports count:
    they are dependencies too), leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from package import module" depends on the module, not on the package's face
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(n for n in names if n in MODULES)
            if any(n not in MODULES for n in names):
                found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in MODULES and m != name}


def _third_party(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(GRAPH):
        if v not in index:
            strong(v)
    return found


def test_the_graph_is_read():
    # a walker that found nothing would pass every test below
    assert len(MODULES) > 40
    assert "sheetsync.sources.load" in GRAPH["sheetsync.pipeline"]
    assert "sheetsync.validation.workbook" in GRAPH["sheetsync.sources.load"]


def test_no_import_cycles():
    assert _cycles() == []


BACKENDS = ("sheetsync.backends.excel", "sheetsync.backends.google", "sheetsync.backends.memory")
"""The backends themselves; their contract (``backends.base``) and the facts every spreadsheet
shares (``grid``) are for everyone."""

ROOMS_BELOW = {
    # room: rooms it must never import (data flows read -> validate -> roll up -> report -> write)
    "sheetsync.validation": ("sheetsync.sources", "sheetsync.analytics",
                             "sheetsync.report.dashboard", "sheetsync.pipeline",
                             "sheetsync.nightly", "sheetsync.config"),
    "sheetsync.analytics": ("sheetsync.sources", "sheetsync.validation", "sheetsync.report",
                            *BACKENDS, "sheetsync.pipeline", "sheetsync.config"),
    "sheetsync.report": ("sheetsync.sources", "sheetsync.validation", *BACKENDS,
                         "sheetsync.pipeline", "sheetsync.nightly"),
    "sheetsync.backends": ("sheetsync.sources", "sheetsync.validation", "sheetsync.analytics",
                           "sheetsync.report.dashboard", "sheetsync.pipeline",
                           "sheetsync.nightly", "sheetsync.doctor", "sheetsync.cli"),
    "sheetsync.sources": ("sheetsync.analytics", "sheetsync.report.dashboard",
                          "sheetsync.pipeline", "sheetsync.config", "sheetsync.backends.excel",
                          "sheetsync.backends.google"),
    "sheetsync.history": ("sheetsync.sources", "sheetsync.validation", "sheetsync.report",
                          *BACKENDS, "sheetsync.nightly"),
    "sheetsync.findings": ("sheetsync.",),
    "sheetsync.errors": ("sheetsync.backends", "sheetsync.sources", "sheetsync.pipeline"),
}


@pytest.mark.parametrize("room", sorted(ROOMS_BELOW))
def test_data_flows_one_way(room):
    wrong = []
    for name, imported in GRAPH.items():
        if name != room and not name.startswith(room + "."):
            continue
        for target in imported:
            if any(target == f or target.startswith(f if f.endswith(".") else f + ".")
                   or target == f.rstrip(".") for f in ROOMS_BELOW[room]):
                if room == "sheetsync.findings" and target == "sheetsync.findings":
                    continue
                wrong.append(f"{name} -> {target}")
    assert wrong == []


HEAVY = {"gspread", "openpyxl", "python_calamine", "google", "requests", "tenacity"}


def test_spreadsheet_libraries_stay_in_the_backends():
    outside = {name: sorted(_third_party(name) & HEAVY) for name in MODULES
               if not name.startswith(("sheetsync.backends.", "sheetsync.testing"))}
    outside.pop("sheetsync.benchmark", None)  # measures peers that read with these libraries
    assert {k: v for k, v in outside.items() if v} == {}


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print('\\n'.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return {line.split(".")[0] for line in out.stdout.split()}


def test_help_imports_neither_pandas_nor_gspread():
    loaded = _modules_after("import sys; sys.argv = ['sheetsync', '--help']\n"
                            "from sheetsync.cli import main\n"
                            "try:\n    main()\nexcept SystemExit:\n    pass")
    assert "click" in loaded
    assert not loaded & {"pandas", "numpy", "gspread", "openpyxl", "python_calamine"}


def test_an_excel_run_never_imports_the_google_stack(tmp_path):
    loaded = _modules_after(
        "from pathlib import Path\nimport sheetsync\n"
        f"config = sheetsync.load_config({str(REPO / 'config' / 'example.toml')!r})\n"
        f"sheetsync.run(config, output=Path({str(tmp_path / 'd.xlsx')!r}), take_lock=False,"
        " use_cache=False)")
    assert "pandas" in loaded and "openpyxl" in loaded
    assert not loaded & {"gspread", "google", "requests", "tenacity"}


PUBLIC_API = [
    "Config", "ConfigError", "Finding", "Findings", "LockHeld", "MemoryBackend", "ProgramData",
    "RawTab", "RawWorkbook", "RollupContext", "RunFailed", "RunOutcome", "Severity",
    "SheetsyncError", "SourceReadError", "SourceStatus", "TargetWriteError", "__version__",
    "load_config", "rollup", "run", "validate",
]


def test_the_public_api_is_pinned():
    assert sheetsync.__all__ == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(sheetsync, name) is not None
    assert callable(sheetsync.validate) and callable(sheetsync.run)


def test_importing_sheetsync_is_cheap():
    loaded = _modules_after("import sheetsync")
    assert not loaded & {"pandas", "numpy", "click", "gspread", "openpyxl"}


def test_every_error_says_whether_a_retry_can_help():
    from sheetsync import errors

    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, errors.SheetsyncError)
            assert isinstance(value.transient, bool)
    assert errors.LockHeld.transient is True and errors.ConfigError.transient is False


def test_findings_report_like_a_validation_report():
    from sheetsync.findings import Finding, Findings, Severity

    report = Findings([Finding("bad-date", Severity.WARNING, "Not a date", source="b", cell="C3"),
                       Finding("missing-tab", Severity.ERROR, "No Goal tab", source="a")])
    assert report.by_severity() == {"error": 1, "warning": 1, "info": 0}
    assert not report.valid and Findings(report.with_code("bad-date")).valid
    frame = report.to_frame()
    assert list(frame["code"]) == ["missing-tab", "bad-date"]  # errors first
    assert {"severity", "source", "tab", "cell", "message", "hint"} <= set(frame.columns)


def test_the_code_is_ruff_clean():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is installed with the test extras")
    out = subprocess.run([str(ruff), "check", "--quiet", "sheetsync", "tests", "bench",
                          "sheet_templates"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
