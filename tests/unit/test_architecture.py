"""The import rules of docs/architecture.md, checked with ``ast`` over plugins/.

The layer table is read from the document itself (between its ``layers`` markers), so the page and
the code cannot drift apart: a file without a layer, or an import that goes up or sideways, fails.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "architecture.md"
PACKAGE = "ansible_collections.adobe_commerce.accs.plugins"
# shipped to targets: only module_utils of the collection, only ansible.module_utils of ansible-core
TARGET_FOLDERS = ("module_utils", "modules")


def read_layers(text):
    """{(folder, name or "*"): layer} from the table between <!-- layers --> and <!-- /layers -->."""
    match = re.search(r"<!-- layers -->(.*?)<!-- /layers -->", text, re.S)
    if not match:
        raise AssertionError("docs/architecture.md has no table between <!-- layers --> and <!-- /layers -->")
    layers = {}
    for line in match.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].isdigit():
            continue
        layer, folder, files = int(cells[0]), cells[1], cells[2]
        names = ["*"] if files == "*" else re.findall(r"`([A-Za-z0-9_]+)`", files)
        for name in names:
            layers[(folder, name)] = layer
    return layers


def layer_of(layers, folder, name):
    return layers.get((folder, name), layers.get((folder, "*")))


def _imported(tree, module_name):
    """(line, module, names it imports) of every import in the file, relative ones resolved, inside functions too.

    ``names`` are the dotted names of what ``from module import a, b`` takes (a name may be a submodule).
    """
    package = module_name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = parent + ("." + base if base else "")
            yield node.lineno, base, [base + "." + alias.name for alias in node.names]


def _target(dotted):
    """(folder, name) of a collection plugin file that ``dotted`` names, or None."""
    if not dotted.startswith(PACKAGE + "."):
        return None
    parts = dotted[len(PACKAGE) + 1:].split(".")
    if len(parts) < 2:
        return None
    return parts[0], parts[1]


def _controller_only(dotted):
    return dotted.split(".")[0] == "ansible" and not (dotted + ".").startswith("ansible.module_utils.")


def violations(plugins_dir, layers):
    """Every broken rule under ``plugins_dir``, one sentence each."""
    found = []
    for path in sorted(Path(plugins_dir).glob("*/*.py")):
        if path.name == "__init__.py":
            continue
        folder, name = path.parent.name, path.stem
        where = "%s/%s.py" % (folder, name)
        own = layer_of(layers, folder, name)
        if own is None:
            found.append("%s has no layer in docs/architecture.md: add it to the layer table." % where)
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module, names in _imported(tree, "%s.%s.%s" % (PACKAGE, folder, name)):
            if folder in TARGET_FOLDERS and _controller_only(module):
                found.append("%s:%d imports %s, which exists only on the controller: use ansible.module_utils only."
                             % (where, line, module))
                continue
            targets = {target for target in map(_target, [module] + names) if target and target != (folder, name)}
            for target in sorted(targets):
                theirs = layer_of(layers, *target)
                if theirs is None:
                    continue  # reported for that file itself, or no such file (then the import fails anyway)
                if folder == "modules" and target[0] == "modules":
                    found.append("%s:%d imports modules/%s.py: a module never imports another module; share the "
                                 "code through module_utils." % (where, line, target[1]))
                elif folder in TARGET_FOLDERS and target[0] != "module_utils":
                    found.append("%s:%d imports %s/%s.py, which is not shipped to targets: modules and module_utils "
                                 "import only module_utils." % (where, line, target[0], target[1]))
                elif theirs >= own:
                    found.append("%s:%d imports %s/%s.py of layer %d from layer %d: import only lower layers."
                                 % (where, line, target[0], target[1], theirs, own))
    return found


@pytest.fixture(scope="module")
def layers():
    return read_layers(DOC.read_text(encoding="utf-8"))


def test_the_tree_keeps_the_import_rules(layers):
    assert violations(REPO_ROOT / "plugins", layers) == []


def test_the_layer_table_names_the_layers_the_issue_asks_for(layers):
    for name in ("_http", "_ims", "_vault", "_token_manager", "_accs", "_resource", "_operations", "_options"):
        assert ("module_utils", name) in layers, name
    assert layer_of(layers, "module_utils", "_http") < layer_of(layers, "module_utils", "_token_manager") \
        < layer_of(layers, "module_utils", "_resource") < layer_of(layers, "module_utils", "_operations") \
        < layer_of(layers, "plugin_utils", "_drift") < layer_of(layers, "modules", "ims_token")


def _plugin(root, relative, text):
    path = root / "plugins" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_violating_tree_is_caught(tmp_path, layers):
    p = "from ansible_collections.adobe_commerce.accs.plugins"
    _plugin(tmp_path, "module_utils/_http.py", p + ".plugin_utils._drift import compute_drift\n")
    _plugin(tmp_path, "module_utils/_vault.py", "from ansible.errors import AnsibleError\n"
                                                "from ansible.module_utils.basic import env_fallback\n")
    _plugin(tmp_path, "module_utils/_ims.py", p + ".module_utils._token_manager import TokenManager\n")
    _plugin(tmp_path, "module_utils/_accs.py", p + ".module_utils import _vault\n")
    _plugin(tmp_path, "module_utils/_token_manager.py", "def late():\n    from ..module_utils import _operations\n")
    _plugin(tmp_path, "module_utils/_operations.py", p + ".module_utils._http import HttpClient\n")
    _plugin(tmp_path, "module_utils/_stray.py", "import os\n")
    _plugin(tmp_path, "modules/ims_token.py", p + ".modules.accs_rest import main\n")
    _plugin(tmp_path, "modules/accs_rest.py", p + ".plugin_utils._reports import safe_name\n"
                                                  "from ansible.plugins.action import ActionBase\n")
    _plugin(tmp_path, "plugin_utils/_drift.py", p + ".plugin_utils._reports import safe_name\n")
    _plugin(tmp_path, "action/accs_rest.py", p + ".module_utils._operations import ACCS_REST\n"
                                                 "from ansible.plugins.action import ActionBase\n")
    found = violations(tmp_path / "plugins", layers)
    expected = [
        "module_utils/_accs.py:1 imports module_utils/_vault.py of layer 4 from layer 4: import only lower layers.",
        "module_utils/_http.py:1 imports plugin_utils/_drift.py, which is not shipped to targets: modules and "
        "module_utils import only module_utils.",
        "module_utils/_ims.py:1 imports module_utils/_token_manager.py of layer 5 from layer 4: import only lower "
        "layers.",
        "module_utils/_stray.py has no layer in docs/architecture.md: add it to the layer table.",
        "module_utils/_token_manager.py:2 imports module_utils/_operations.py of layer 7 from layer 5: import only "
        "lower layers.",
        "module_utils/_vault.py:1 imports ansible.errors, which exists only on the controller: use "
        "ansible.module_utils only.",
        "modules/accs_rest.py:1 imports plugin_utils/_reports.py, which is not shipped to targets: modules and "
        "module_utils import only module_utils.",
        "modules/accs_rest.py:2 imports ansible.plugins.action, which exists only on the controller: use "
        "ansible.module_utils only.",
        "modules/ims_token.py:1 imports modules/accs_rest.py: a module never imports another module; share the code "
        "through module_utils.",
        "plugin_utils/_drift.py:1 imports plugin_utils/_reports.py of layer 10 from layer 9: import only lower layers.",
    ]
    assert sorted(found) == sorted(expected)


def test_a_document_without_the_table_is_refused():
    with pytest.raises(AssertionError):
        read_layers("# Architecture\n\nno table\n")
