"""The package's import graph: no cycles between modules, and no stage importing a later stage.

Walks every module under ``src/v1mtl`` with ``ast`` (imports inside functions count too: they are
dependencies all the same) and checks the packages against ``STAGE_ORDER``, the one place the order of
the pipeline's layers is declared (docs/architecture.md explains it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import v1mtl

# Lowest first: a package may import only itself and packages before it.
STAGE_ORDER = (
    "common",  # errors, atomic writes, typed config, measures, statistics, tables
    "data",  # V1 recordings and classification images: readers, writers, loaders
    "simulator",  # the built-in V1 population
    "corruptions",  # the corruption engine
    "models",  # networks and readouts
    "fitting",  # what every fit shares: early stopping, losses
    "neural_model",  # the V1 model fitted to recordings, and the targets it predicts
    "training",  # the co-training run
    "evaluate",  # robustness and V1 predictivity of trained networks
    "analysis",  # reconstruction and saliency of trained networks
    "tracking",  # MLflow records of finished runs, read from their files
    "study",  # plans and runs every stage
    "report",  # the report of a study (its writer is handed to the study by the command)
    "commands",  # command-line adapters of the stages
    "cli",  # the entry point
    "__main__",
)

# Arrows and cycles allowed against the rules: none. Kept as names so a test failure prints the difference.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()
KNOWN_CYCLES: set[frozenset[str]] = set()

SRC = Path(v1mtl.__file__).parent


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """``module -> modules of the package it imports``, for every ``.py`` file under ``src``."""
    modules = {_module_name(p, src): p for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one
                subs = {f"{base}.{a.name}" for a in node.names} & modules.keys()
                targets.update(subs or {base})
        # a module's own parent packages are imported by Python anyway; they are not arrows
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = {t for t in targets if t in modules and t != name and t not in own}
    return graph


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1].removesuffix(".py") if len(parts) > 1 else ""


def order_violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """``(importer, imported)`` module pairs whose stages go against ``STAGE_ORDER``."""
    rank = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    return {
        (a, b)
        for a, targets in graph.items()
        for b in targets
        if _stage(a) and _stage(b) and rank[_stage(b)] > rank[_stage(a)]
    }


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def test_every_stage_is_declared():
    stages = {_stage(m) for m in import_graph()} - {""}
    assert stages <= set(STAGE_ORDER), f"undeclared stages: {sorted(stages - set(STAGE_ORDER))}"


def test_no_stage_imports_a_later_stage():
    assert order_violations(import_graph()) == KNOWN_VIOLATIONS


def test_no_import_cycles():
    assert cycles(import_graph()) == KNOWN_CYCLES


def test_the_checks_see_a_cycle_and_a_backward_arrow(tmp_path):
    pkg = tmp_path / "v1mtl"
    for rel, text in {
        "__init__.py": "",
        "common/__init__.py": "",
        "common/a.py": "from v1mtl.common import b\n",
        "common/b.py": "def f():\n    from v1mtl.training.run import g\n",
        "training/__init__.py": "",
        "training/run.py": "from .. import common\nfrom v1mtl.common.a import x\n",
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph = import_graph(pkg)
    assert graph["v1mtl.common.a"] == {"v1mtl.common.b"}
    assert graph["v1mtl.training.run"] == {"v1mtl.common", "v1mtl.common.a"}
    assert order_violations(graph) == {("v1mtl.common.b", "v1mtl.training.run")}
    assert cycles(graph) == {frozenset({"v1mtl.common.a", "v1mtl.common.b", "v1mtl.training.run"})}
