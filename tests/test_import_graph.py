"""No import cycle in src/kagglenlp: module-level and function-level imports alike (read with `ast`, nothing run)."""

import ast
from pathlib import Path

import kagglenlp

SRC = Path(kagglenlp.__file__).parent


def module_name(path):
    "Dotted name of source file `path` under `SRC` (a package's `__init__.py` is the package)."
    parts = ("kagglenlp", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def known(name, modules):
    "`name` if it is one of `modules`, else its nearest parent that is (`from pkg import name_in_pkg`)."
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports(path, modules):
    "The kagglenlp modules that file `path` imports anywhere in its body (functions included)."
    me = module_name(path)
    pkg = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = pkg
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            names = [f"{mod}.{a.name}" for a in node.names]  # a submodule, or a name in `mod`
        else:
            continue
        out |= {k for n in names if (k := known(n, modules)) and k != me}
    return out


def graph():
    "`{module: modules it imports}` for every module of the package."
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    return {m: imports(p, files) for m, p in files.items()}


def find_cycle(g):
    "One import cycle of graph `g` as a list of modules (first == last), or None."
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == "open":
                return stack[stack.index(n) :] + [n]
            if n not in state and (c := visit(n)):
                return c
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(g):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_graph_sees_function_level_and_relative_imports():
    g = graph()
    assert "kagglenlp.patents.models.recipe" in g["kagglenlp.patents.models.cross"]  # `from .recipe import ...`
    assert "kagglenlp.patents.run" in g["kagglenlp.patents.cli"]  # imported inside `cmd_train`
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)
