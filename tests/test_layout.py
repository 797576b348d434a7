"""The package's layers import only downwards, and no module imports itself round a cycle.

Layers, bottom to top: nn (plain torch), data, weights, training, tasks, inference, cli. A
module may import its own layer and the layers below; `lightning_nlp/__init__.py` (the
`load` entry point) imports lazily."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lightning_nlp"
LAYERS = ["nn", "data", "weights", "training", "tasks", "inference", "cli"]
# the one known exception: data modules read a checkpoint's vocabulary through the safe
# checkpoint reader
KNOWN = {("data.text.artifacts", "weights.checkpoints")}


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


def test_nn_reads_and_downloads_nothing():
    """`nn/` is plain torch: building or running a module opens no file and no connection
    (weights come through `weights/`; the layer cache, given a folder, is the one writer)."""
    io_calls = ("open(", "read_text", "read_bytes", "torch.load", "h5py", "urllib", "np.load")
    found = [
        f"{path.relative_to(PACKAGE)}: {call}"
        for path in (PACKAGE / "nn").rglob("*.py")
        for call in io_calls
        if call in path.read_text()
    ]
    assert found == []
