"""The package's layers import only downwards, and no module imports itself round a cycle.

Layers, bottom to top: nn (plain torch), data, weights, training, tasks, inference, cli. A
module may import its own layer and the layers below; `lightning_nlp/__init__.py` (the
`load` entry point) imports lazily."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lightning_nlp"
LAYERS = ["nn", "data", "weights", "training", "tasks", "inference", "cli"]
# the one known exception: ElmoClassifier builds its biLM from a weights file it is given
# and data modules read a checkpoint's vocabulary through the safe checkpoint reader
KNOWN = {("nn.elmo.published", "weights.pretrained"), ("nn.elmo.published", "data.text.download"),
         ("nn.elmo.published", "data.text.io"), ("data.text.artifacts", "weights.checkpoints")}  # fmt: skip


def _imports() -> dict[str, set[str]]:
    """Module (dotted, without the package) -> the package's modules it imports, anywhere."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            targets |= {
                n.removeprefix("lightning_nlp.") for n in names if n.startswith("lightning_nlp.")
            }
        found[name] = targets
    return found


def test_layers_import_only_downwards():
    wrong = []
    for module, targets in _imports().items():
        layer = module.split(".")[0]
        if layer not in LAYERS:
            continue
        for target in targets:
            below = LAYERS.index(target.split(".")[0]) <= LAYERS.index(layer)
            if not below and (module, target) not in KNOWN:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycles():
    graph = _imports()
    modules = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    cycles, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(modules[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_package_top_level_holds_only_the_layers():
    top = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", ".")))
    assert top == sorted(LAYERS)
