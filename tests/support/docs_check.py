"""The docs test's checker: the Markdown pages against the collection's code (issue 19).

``check_docs(root)`` reads every Markdown page of a repository tree (``README.md``,
``CONTRIBUTING.md`` and whatever is under ``docs/``) and returns one problem per finding, each
naming ``file:line`` and what to fix.  It looks at

- fenced ``yaml`` blocks: parsed; plays, tasks, roles, ``module_defaults``, lookups and filters of
  ``adobe_commerce.accs`` checked against the modules' DOCUMENTATION (with their doc fragments), the
  lookup's and filters' documentation, the action group in ``meta/runtime.yml`` and the roles'
  ``meta/argument_specs.yml``; ``accs_*`` keys anywhere checked against the variables the code reads;
- fenced ``sh`` blocks: ``bash -n``; ``ansible-playbook``/``ansible-navigator`` playbooks and ``-e``
  variables, ``ansible-doc`` plugin names, ``make`` targets, repository paths, and the keys of
  ``bao kv put`` into a credential document;
- fenced ``hcl`` blocks: every policy path is a KV v2 data path with capabilities the collection uses;
- troubleshooting tables (a column headed *message* or *... starts with*): every quoted message is
  found in ``plugins/``, ``roles/`` or ``playbooks/`` (``...`` and ``<placeholder>`` stand for any text);
- inline code that is only a name (`` `accs_x` ``, `` `vault_x: ...` ``, `` `VAULT_X=...` ``): the name
  exists in the code;
- relative links: the file and the heading anchor exist.

A block preceded by ``<!-- docs-test: skip (reason) -->`` is left out (the reason is required); one
preceded by ``<!-- docs-test: run (reason) -->`` is also returned by ``runnable_blocks`` for the test
to execute.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shlex
import subprocess
from collections import defaultdict
from pathlib import Path

import yaml

NS = "adobe_commerce.accs."
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(skip|run)\s*(?:\((.*)\))?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)\s*$")
SHELL_LANGS = {"sh", "bash", "shell", "console"}
YAML_LANGS = {"yaml", "yml"}
# The keys of the credential document (docs/guide.md "The Vault document", _credential.py).
CREDENTIAL_KEYS = {"client_id", "client_secret", "client_secrets", "grant_type", "scopes", "org_id", "refresh_token",
                   "refresh_token_issued_at", "access_token", "access_token_expires_at"}
POLICY_CAPABILITIES = {"read", "create", "update"}
# Names in backticks that belong to other tools and appear in no block the docs show.
EXTERNAL_NAMES = {
    "max_versions": "Vault KV v2 metadata setting",
    "job_slice_count": "AWX job template field",
    "jwt_validation_pubkeys": "Vault jwt auth method configuration",
    "jwks_url": "Vault jwt auth method configuration",
}
WILD = None


@dataclasses.dataclass
class Block:
    path: Path
    line: int          # line of the opening fence, 1-based
    lang: str
    text: str
    marker: str | None  # "skip", "run" or None
    reason: str | None

    def where(self, root, offset=0):
        return "%s:%d" % (self.path.relative_to(root), self.line + 1 + offset)


# --------------------------------------------------------------------------- reading the pages
def markdown_files(root):
    root = Path(root)
    pages = [root / name for name in ("README.md", "CONTRIBUTING.md") if (root / name).is_file()]
    return pages + sorted((root / "docs").rglob("*.md"))


def blocks(path):
    """The fenced blocks of one page, with the marker on the line before (blank lines between allowed)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, lang = match.groups()
        start = i
        body = []
        i += 1
        while i < len(lines) and not _closes(lines[i], fence):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        marker = reason = None
        back = start - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        if back >= 0:
            found = MARKER.match(lines[back])
            if found:
                marker, reason = found.group(1), (found.group(2) or "").strip() or None
        out.append(Block(path, start + 1, lang.lower(), "\n".join(body) + "\n", marker, reason))
    return out


def _closes(line, fence):
    text = line.strip()
    return bool(text) and set(text) == {fence[0]} and len(text) >= len(fence)


def prose_lines(path):
    """(line number, text) of the lines outside fenced blocks."""
    inside = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if match and inside is None:
            inside = match.group(2)
            continue
        if inside is not None:
            if _closes(line, inside):
                inside = None
            continue
        yield number, line


# --------------------------------------------------------------------------- what the code has
class _Loader(yaml.SafeLoader):
    pass


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_Loader.add_multi_constructor("!", _any_tag)


def load_yaml(text):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _python_constant(path, name):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


class Collection:
    """What the collection's code declares, read from a repository tree."""

    def __init__(self, root):
        self.root = Path(root)
        plugins = self.root / "plugins"
        self.fragments = {}
        for path in sorted((plugins / "doc_fragments").glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id.isupper():
                            key = path.stem if target.id == "DOCUMENTATION" else "%s.%s" % (path.stem, target.id.lower())
                            self.fragments[key] = yaml.safe_load(node.value.value) or {}
        self.modules = {p.stem: self._options(p) for p in sorted((plugins / "modules").glob("*.py"))}
        self.lookups = {p.stem: self._options(p) for p in sorted((plugins / "lookup").glob("*.py"))}
        self.filters = {}
        for path in sorted((plugins / "filter").glob("*.yml")):
            doc = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("DOCUMENTATION") or {}
            self.filters[doc.get("name", path.stem)] = set((doc.get("options") or {})) - {"_input"}
        runtime = yaml.safe_load((self.root / "meta" / "runtime.yml").read_text(encoding="utf-8"))
        self.groups = {name: list(members) for name, members in (runtime.get("action_groups") or {}).items()}
        self.roles = {}
        for spec in sorted(self.root.glob("roles/*/meta/argument_specs.yml")):
            entry = (yaml.safe_load(spec.read_text(encoding="utf-8"))["argument_specs"].get("main") or {})
            self.roles[spec.parent.parent.name] = set(entry.get("options") or {})
        self.playbooks = {p.stem for p in (self.root / "playbooks").glob("*.yml")}
        galaxy = self.root / "galaxy.yml"
        self.version = str(yaml.safe_load(galaxy.read_text(encoding="utf-8"))["version"]) if galaxy.is_file() else None
        self.make_targets = set()
        for makefile in [self.root / "Makefile"] + sorted((self.root / "mk").glob("*.mk")):
            if makefile.is_file():
                self.make_targets |= set(re.findall(r"^([a-z][\w-]*):", makefile.read_text(encoding="utf-8"), re.M))
        texts = [p.read_text(encoding="utf-8", errors="replace")
                 for folder in ("plugins", "roles", "playbooks", "meta")
                 for p in sorted((self.root / folder).rglob("*")) if p.is_file() and p.suffix in (".py", ".yml", ".yaml")]
        config = self.root / "changelogs" / "config.yaml"  # the changelog fragments' sections
        texts.append(config.read_text(encoding="utf-8") if config.is_file() else "")
        self.code_text = "\n".join(texts)
        self.names = set(re.findall(r"\b(?:accs|vault)_[a-z0-9_]+|\b(?:VAULT|ACCS)_[A-Z0-9_]+", self.code_text))
        self.messages = list(self._message_patterns())
        # every literal run of every message, one a line: where a quote's fixed wording must be found
        self.message_words = [_words("".join("\0" if t is WILD else t for t in m)) for m in self.messages]
        # the fixed runs of every message, word by word: what a placeholder may be filled with
        self.message_runs = "\n" + "\n".join(
            " ".join(run) for words in self.message_words for run in _runs(words)) + "\n"

    def _options(self, path):
        doc = yaml.safe_load(_python_constant(path, "DOCUMENTATION") or "") or {}
        options = set(doc.get("options") or {})
        for fragment in doc.get("extends_documentation_fragment") or []:
            if fragment.startswith(NS):
                options |= set((self.fragments.get(fragment[len(NS):]) or {}).get("options") or {})
        return options

    # ------------------------------------------------------------------- message patterns
    def _message_patterns(self):
        for path in sorted((self.root / "plugins").rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                pattern = _pattern_of(node)
                if pattern and len(pattern) > 12:
                    yield pattern
        for folder in ("roles", "playbooks", "plugins/filter"):
            for path in sorted((self.root / folder).rglob("*.yml")):
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8"))
                except yaml.YAMLError:
                    continue
                for text in _strings(data):
                    yield _jinja_pattern(text)

    def group_options(self, group):
        return set().union(*(self.modules.get(m, set()) for m in self.groups.get(group, [])))


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


_PERCENT = re.compile(r"%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrif]|%%")


def _code_pattern(text):
    out = []
    pos = 0
    for match in _PERCENT.finditer(text):
        out.extend(_squash(text[pos:match.start()]))
        out.append("%" if match.group() == "%%" else WILD)
        pos = match.end()
    out.extend(_squash(text[pos:]))
    return _tidy(out)


def _jinja_pattern(text):
    out = []
    pos = 0
    for match in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S):
        out.extend(_squash(text[pos:match.start()]))
        out.append(WILD)
        pos = match.end()
    out.extend(_squash(text[pos:]))
    return _tidy(out)


def _squash(text):
    return list(re.sub(r"\s+", " ", text))


def _tidy(tokens):
    out = []
    for token in tokens:
        if token is WILD and out and out[-1] is WILD:
            continue
        out.append(token)
    return out


def _pattern_of(node):
    """A message pattern of a string expression: literals, f-strings, % formatting, + and .format()."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _code_pattern(node.value)
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.extend(_squash(part.value))
            else:
                out.append(WILD)
        return _tidy(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _pattern_of(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pattern_of(node.left), _pattern_of(node.right)
        if left is None and right is None:
            return None
        return _tidy((left or [WILD]) + (right or [WILD]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        base = _pattern_of(node.func.value)
        if base is not None:
            text = "".join("\0" if t is WILD else t for t in base)
            return _tidy([WILD if c == "\0" else c for c in re.sub(r"\{[^{}]*\}", "\0", text)])
    return None


def doc_pattern(quote):
    """A quoted message: ``...``, ``…`` and ``<placeholder>`` stand for any text."""
    text = quote.replace("\\|", "|")
    text = re.sub(r"\.\.\.|…|<[^<>\s][^<>]*>", "\0", text)
    return _tidy([WILD if c == "\0" else c for c in _squash(text)])


def intersects(doc, code):
    """Whether some message the code pattern makes starts with something the doc pattern describes.

    Both are lists of characters and WILD (any text). A set of doc positions is carried along the
    code pattern (an NFA over both); the doc pattern must be consumed completely.
    """
    n = len(doc)
    star = 0
    equal = defaultdict(int)
    for i, token in enumerate(doc):
        if token is WILD:
            star |= 1 << i
        else:
            equal[token] |= 1 << i
    full = 1 << n
    everything = (full << 1) - 1

    def skip_doc_stars(states):
        return states | ((states & star) << 1)

    states = skip_doc_stars(1)
    for token in code:
        if states & full:
            return True
        if token is WILD:
            lowest = states & -states
            states = skip_doc_stars(everything & ~(lowest - 1))
        else:
            states = skip_doc_stars((states & star) | ((states & equal.get(token, 0)) << 1))
        if not states:
            return False
    return bool(states & full)


# --------------------------------------------------------------------------- the checks
class Checker:
    def __init__(self, root, collection=None):
        self.root = Path(root)
        self.code = collection or Collection(self.root)
        self.problems = []
        self.checked = defaultdict(int)
        self.fills = {}  # words -> whether some message says them (a message quoted inside another)

    def problem(self, where, text):
        self.problems.append("%s: %s" % (where, text))

    def run(self):
        anchors = {}
        for page in markdown_files(self.root):
            for block in blocks(page):
                if block.marker == "skip":
                    if not block.reason:
                        self.problem(block.where(self.root, -1), "the docs-test skip marker before this block needs "
                                     "its reason: <!-- docs-test: skip (why this block cannot be checked) -->")
                    self.checked["skipped"] += 1
                    continue
                if block.lang in YAML_LANGS:
                    self.check_yaml(block)
                elif block.lang in SHELL_LANGS:
                    self.check_shell(block)
                elif block.lang == "hcl":
                    self.check_hcl(block)
                else:
                    continue
                self.checked[block.lang] += 1
            self.check_tables(page)
            self.check_quoted_failures(page)
            self.check_inline_names(page)
            self.check_links(page, anchors)
        return sorted(self.problems, key=_by_place)

    # ------------------------------------------------------------------- yaml
    def check_yaml(self, block):
        try:
            data = load_yaml(block.text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            offset = mark.line if mark else 0
            self.problem(block.where(self.root, offset), "the yaml block does not parse (%s): fix its syntax"
                         % str(exc).splitlines()[0])
            return
        where = block.where(self.root)
        if isinstance(data, list):
            for item in data:
                if isinstance(item, dict) and ("hosts" in item or _import_playbook(item) is not None):
                    self.check_play(item, block)
                elif isinstance(item, dict):
                    self.check_task(item, block)
        self.check_accs_keys(data, where)

    def check_play(self, play, block):
        where = block.where(self.root)
        imported = _import_playbook(play)
        if imported is not None and imported.startswith(NS) and imported[len(NS):] not in self.code.playbooks:
            self.problem(where, "playbook %s does not exist (playbooks/ has %s)"
                         % (imported, ", ".join(sorted(self.code.playbooks))))
        self.check_module_defaults(play.get("module_defaults"), where)
        for role in play.get("roles") or []:
            self.check_role(role, where)
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            for task in play.get(key) or []:
                if isinstance(task, dict):
                    self.check_task(task, block)

    def check_module_defaults(self, defaults, where):
        for key, options in (defaults or {}).items():
            if not isinstance(options, dict):
                continue
            if key.startswith("group/" + NS):
                group = key[len("group/" + NS):]
                if group not in self.code.groups:
                    self.problem(where, "module_defaults name action group %s, which meta/runtime.yml does not define" % key)
                    continue
                known = self.code.group_options(group)
                for option in options:
                    if option not in known:
                        self.problem(where, "module_defaults for %s set '%s', an option none of the group's modules (%s) has"
                                     % (key, option, ", ".join(self.code.groups[group])))
            elif key.startswith(NS):
                self._check_args(key[len(NS):], options, where, "module_defaults for " + key)

    def check_role(self, role, where, variables=None):
        if isinstance(role, str):
            name, variables = role, variables or {}
        elif isinstance(role, dict):
            name = role.get("role") or role.get("name")
            variables = dict(role.get("vars") or {}, **{k: v for k, v in role.items()
                                                        if k not in ("role", "name", "vars", "when", "tags")})
        else:
            return
        if not isinstance(name, str) or not name.startswith(NS):
            return
        short = name[len(NS):]
        if short not in self.code.roles:
            self.problem(where, "role %s does not exist (roles/ has %s)" % (name, ", ".join(sorted(self.code.roles))))
            return
        for variable in variables or {}:
            if variable.startswith("accs_") and variable not in self.code.roles[short]:
                self.problem(where, "role %s has no variable '%s' in roles/%s/meta/argument_specs.yml: rename it, "
                             "or add it to the argument spec" % (name, variable, short))

    def check_task(self, task, block):
        where = block.where(self.root)
        for key in ("block", "rescue", "always"):
            for inner in task.get(key) or []:
                if isinstance(inner, dict):
                    self.check_task(inner, block)
        self.check_module_defaults(task.get("module_defaults"), where)
        for key, args in task.items():
            if key in ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role"):
                if isinstance(args, dict):
                    self.check_role(args.get("name"), where, task.get("vars"))
            elif isinstance(key, str) and key.startswith(NS):
                short = key[len(NS):]
                if short not in self.code.modules:
                    self.problem(where, "module %s does not exist (plugins/modules/)" % key)
                elif isinstance(args, dict):
                    self._check_args(short, args, where, key)
        for text in _strings(task):
            self.check_template(text, where)

    def _check_args(self, module, args, where, what):
        options = self.code.modules.get(module)
        if options is None:
            self.problem(where, "%s: module %s%s does not exist" % (what, NS, module))
            return
        for option in args:
            if option not in options:
                self.problem(where, "%s has no option '%s' (its DOCUMENTATION and doc fragments): use one of %s"
                             % (what, option, ", ".join(sorted(options))))

    def check_template(self, text, where):
        for match in re.finditer(r"\b(?:lookup|query)\(\s*'%s(\w+)'([^)]*)\)" % re.escape(NS), text):
            name, args = match.groups()
            if name not in self.code.lookups:
                self.problem(where, "lookup %s%s does not exist" % (NS, name))
                continue
            for keyword in re.findall(r"\b(\w+)\s*=", args):
                if keyword not in self.code.lookups[name]:
                    self.problem(where, "lookup %s%s has no option '%s'" % (NS, name, keyword))
        for match in re.finditer(r"\|\s*%s(\w+)(?:\(([^)]*)\))?" % re.escape(NS), text):
            name, args = match.groups()
            if name not in self.code.filters:
                self.problem(where, "filter %s%s does not exist" % (NS, name))
                continue
            for keyword in re.findall(r"\b(\w+)\s*=", args or ""):
                if keyword not in self.code.filters[name]:
                    self.problem(where, "filter %s%s has no option '%s'" % (NS, name, keyword))

    def check_accs_keys(self, data, where):
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(key, str) and re.fullmatch(r"accs_[a-z0-9_]+", key) and key not in self.code.names:
                    self.problem(where, "variable '%s' is read nowhere in plugins/, roles/ or playbooks/: fix the name"
                                 % key)
                self.check_accs_keys(value, where)
        elif isinstance(data, list):
            for value in data:
                self.check_accs_keys(value, where)

    # ------------------------------------------------------------------- shell
    def check_shell(self, block):
        text = block.text
        if block.lang == "console":
            # a transcript: the commands are the lines after a "$ " prompt, the rest is their output
            text = "\n".join(line[2:] if line.startswith("$ ") else "" for line in text.splitlines())
        proc = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode:
            self.problem(block.where(self.root), "the sh block is not valid shell: %s" % proc.stderr.strip())
            return
        for offset, words in _commands(text):
            self.check_command(words, block.where(self.root, offset))

    def check_command(self, words, where):
        words = [w for w in words if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", w)] if words else words
        while words and words[0] in ("sudo", "exec", "env", "time"):
            words = words[1:]
        if not words:
            return
        tool = words[0].rsplit("/", 1)[-1]
        args = words[1:]
        if tool == "ansible-navigator" and args[:1] == ["run"]:
            tool, args = "ansible-playbook", args[1:]
        if tool == "ansible-playbook":
            self._check_playbook_args(args, where)
        elif tool == "ansible-doc":
            kind = "module"
            for i, arg in enumerate(args):
                if arg == "-t" and i + 1 < len(args):
                    kind = args[i + 1]
                elif arg.startswith(NS):
                    self._check_plugin(kind, arg[len(NS):], where)
        elif tool == "make":
            for arg in args:
                if not arg.startswith("-") and "=" not in arg and arg not in self.code.make_targets:
                    self.problem(where, "make target '%s' does not exist (Makefile, mk/*.mk)" % arg)
        elif tool in ("bao", "vault") and args[:2] == ["kv", "put"]:
            positional = [a for a in args[2:] if not a.startswith("-")]
            if positional and "accs" in positional[0]:
                for pair in positional[1:]:
                    if "=" in pair and not pair.startswith("@"):
                        key = pair.split("=", 1)[0]
                        if key not in CREDENTIAL_KEYS:
                            self.problem(where, "'%s' is not a key of the credential document (docs/guide.md, The Vault "
                                         "document): fix the key" % key)
        for arg in args:
            tarball = re.search(r"adobe_commerce-accs-([\w.+-]+?)\.tar\.gz", arg)
            if tarball and self.code.version and tarball.group(1) != self.code.version:
                self.problem(where, "%s: galaxy.yml builds version %s" % (arg, self.code.version))
            if re.match(r"(playbooks|roles|plugins|tests|docs|mk|meta)/[\w./-]+$", arg) and "*" not in arg:
                if not (self.root / arg).exists():
                    self.problem(where, "%s does not exist in the repository" % arg)

    def _check_playbook_args(self, args, where):
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("-e", "--extra-vars") and i + 1 < len(args):
                self._check_extra_vars(args[i + 1], where)
                i += 2
                continue
            if arg.startswith("--extra-vars="):
                self._check_extra_vars(arg.split("=", 1)[1], where)
            elif arg in ("-i", "--inventory", "-l", "--limit", "-f", "--forks", "-t", "--tags", "-u", "--mode", "-m"):
                i += 2
                continue
            elif arg.startswith(NS):
                if arg[len(NS):] not in self.code.playbooks:
                    self.problem(where, "playbook %s does not exist (playbooks/ has %s)"
                                 % (arg, ", ".join(sorted(self.code.playbooks))))
            i += 1

    def _check_extra_vars(self, value, where):
        if value.startswith("@") or value.startswith("{"):
            return
        for pair in value.split():
            name = pair.split("=", 1)[0]
            if name.startswith("accs_") and name not in self.code.names:
                self.problem(where, "-e %s: no playbook, role or plugin reads '%s': fix the name" % (pair, name))

    def _check_plugin(self, kind, name, where):
        table = {"module": self.code.modules, "lookup": self.code.lookups, "filter": self.code.filters,
                 "role": self.code.roles}.get(kind)
        if table is not None and name not in table:
            self.problem(where, "ansible-doc -t %s %s%s: no such %s in the collection" % (kind, NS, name, kind))

    # ------------------------------------------------------------------- hcl
    def check_hcl(self, block):
        allowed = POLICY_CAPABILITIES
        for offset, line in enumerate(block.text.splitlines()):
            match = re.match(r'\s*path\s+"([^"]+)"', line)
            if match:
                # data paths are read and written; the inventory plugin only lists the metadata path
                allowed = {"list"} if "/metadata/" in match.group(1) else POLICY_CAPABILITIES
            if match and "/data/" not in match.group(1) and "/metadata/" not in match.group(1):
                self.problem(block.where(self.root, offset), "policy path %s is not a KV v2 data or metadata path "
                             "(<mount>/data/<path>, <mount>/metadata/<path> to list), the only ones the collection "
                             "uses" % match.group(1))
            match = re.search(r"capabilities\s*=\s*\[([^\]]*)\]", line)
            if match:
                for capability in re.findall(r'"(\w+)"', match.group(1)):
                    if capability not in allowed:
                        self.problem(block.where(self.root, offset), "capability '%s': the collection needs only %s"
                                     % (capability, ", ".join(sorted(allowed))))

    # ------------------------------------------------------------------- tables of messages
    def check_tables(self, page):
        header = None
        columns = []
        for number, line in prose_lines(page):
            if not line.lstrip().startswith("|"):
                header = None
                continue
            cells = _cells(line)
            if header is None:
                header = cells
                columns = [i for i, cell in enumerate(cells) if re.search(r"\bmessage\b|starts with", cell, re.I)]
                continue
            if all(re.fullmatch(r":?-+:?", c.strip()) for c in cells if c.strip()):
                continue
            for column in columns:
                if column >= len(cells):
                    continue
                for index, quote in enumerate(re.findall(r"`([^`]+)`", cells[column])):
                    pattern = doc_pattern(quote)
                    if index:
                        pattern = _tidy([WILD] + pattern)
                    missing, runs = self._wording_missing(quote)
                    if missing or (not runs and not self._found(pattern)):
                        self.problem("%s:%d" % (page.relative_to(self.root), number),
                                     "the message `%s` is not in plugins/, roles/ or playbooks/%s: quote the code's "
                                     "sentence as it is now (`...` for the parts that vary)"
                                     % (quote, " (no message says \"%s\")" % missing[0] if missing else ""))
                    self.checked["messages"] += 1

    def _wording_missing(self, quote):
        """Runs of three or more words of a quote that no single message of the code says.

        The pattern match alone lets a code placeholder stand for any text, so a message composed of
        parts ("ACCS answered %s; %s.") would match any reworded hint. Here each run of the quote (the
        text between its ``...``) must be said, word by word, by one message, whose placeholders may
        stand for at most three words (a value: a path, a URL, a status, read or write).
        """
        missing = []
        checked = 0
        for run in re.split(r"\.\.\.|…|<[^<>\s][^<>]*>", quote.replace("\\|", "|")):
            words = _words(run)
            if len(words) < 2:
                continue
            checked += 1
            if not any(_says(code, words, self.code.message_runs, messages=self.code.message_words, cache=self.fills)
                       for code in self.code.message_words if words[0] in code or words[-1] in code):
                missing.append(run.strip())
        return missing, checked

    def check_quoted_failures(self, page):
        """Messages quoted in prose, in italics after "fails with" or in parentheses: *The credential ...*."""
        paragraph, start = [], None
        for number, line in list(prose_lines(page)) + [(None, "")]:
            if line.strip():
                if start is None:
                    start = number
                paragraph.append(line.strip())
                continue
            text = " ".join(paragraph)
            for match in re.finditer(r"fails? with:?\s*\*([^*]{8,})\*|\(\*([^*]{12,}\.)\*\)", text):
                quote = match.group(1) or match.group(2)
                missing, _runs = self._wording_missing(quote)
                self.checked["messages"] += 1
                if missing:
                    self.problem("%s:%d" % (page.relative_to(self.root), start),
                                 "the paragraph quotes *%s*, which no message of plugins/, roles/ or playbooks/ says "
                                 "(\"%s\"): quote the code's sentence as it is now" % (quote, missing[0]))
            paragraph, start = [], None

    def _found(self, pattern):
        words = sorted(set(re.findall(r"[A-Za-z_]{5,}", "".join(t for t in pattern if t is not WILD))),
                       key=len, reverse=True)[:3]
        for code in self.code.messages:
            if words and not any(w in "".join(t for t in code if t is not WILD) for w in words):
                continue
            if intersects(pattern, code):
                return True
        return False

    # ------------------------------------------------------------------- names in backticks
    def check_inline_names(self, page):
        for number, line in prose_lines(page):
            for span in re.findall(r"`([^`]+)`", line):
                match = re.fullmatch(r"((?:accs|vault)_[a-z0-9_]+|(?:VAULT|ACCS)_[A-Z0-9_]+)(?:\s*[:=].*)?", span.strip())
                if match:
                    name = match.group(1)
                    self.checked["names"] += 1
                    if name not in self.code.names:
                        self.problem("%s:%d" % (page.relative_to(self.root), number),
                                     "`%s` names nothing in plugins/, roles/, playbooks/ or meta/: fix the name" % name)
                    continue
                # any other option-like name (min_ttl, refresh_token_max_age): the code, or a block the docs show
                match = re.fullmatch(r"([a-z][a-z0-9]*_[a-z0-9_]+)(?:\s*[:=].*)?", span.strip())
                if match:
                    name = match.group(1)
                    self.checked["names"] += 1
                    if not (re.search(r"\b%s\b" % name, self.code.code_text) or name in self.shown_names()
                            or name in EXTERNAL_NAMES):
                        self.problem("%s:%d" % (page.relative_to(self.root), number),
                                     "`%s` is an option or key nothing in plugins/, roles/, playbooks/, meta/ or the "
                                     "docs' blocks has: fix the name (a name of another tool: show where it is set, or "
                                     "add it to EXTERNAL_NAMES in tests/support/docs_check.py)" % name)

    def shown_names(self):
        """Names in the fenced blocks of every page (keys of the commands and files the docs show)."""
        if getattr(self, "_shown", None) is None:
            self._shown = set()
            for page in markdown_files(self.root):
                for block in blocks(page):
                    self._shown |= set(re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b", block.text))
        return self._shown

    # ------------------------------------------------------------------- links
    def check_links(self, page, anchors):
        for number, line in prose_lines(page):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+:", target):
                    continue
                file_part, _hash, anchor = target.partition("#")
                path = (page.parent / file_part).resolve() if file_part else page
                where = "%s:%d" % (page.relative_to(self.root), number)
                if not path.exists():
                    self.problem(where, "link %s: %s does not exist" % (target, file_part))
                    continue
                if anchor and path.suffix == ".md":
                    if path not in anchors:
                        anchors[path] = _anchors(path)
                    if anchor not in anchors[path]:
                        self.problem(where, "link %s: %s has no heading with the anchor #%s" % (target, path.name, anchor))


def _words(text):
    """Words without the punctuation around them; a word holding a placeholder (\\0) is WILD."""
    out = []
    for word in text.split():
        if "\0" in word:
            if not out or out[-1] is not WILD:  # adjacent placeholders share one budget
                out.append(WILD)
            continue
        word = word.strip("()[]{},;:.!?\"'`")
        if word:
            out.append(word)
    return out


def _runs(words):
    run = []
    for word in words + [WILD]:
        if word is WILD:
            if run:
                yield run
            run = []
        else:
            run.append(word)


def _plain(word):
    """A word of prose (not a value such as a path, URL, number, name in capitals, or short word)."""
    return len(word) >= 3 and word.isalpha() and word.islower()


def _says(code, words, fills="", most=2, messages=None, cache=None, anchored=False):
    """Whether the code's words contain ``words`` in a row.

    A placeholder (WILD) stands for a value: any words of which at most ``most`` are plain prose
    words, or more when they are another message's fixed text (``fills``, one run a line) or, one
    level deep, another message from its first word (``messages``): a message composed of parts.
    """
    def fill(j, k):
        part = words[j:j + k]
        if sum(1 for w in part if _plain(w)) <= most:
            return True
        while part and not part[0].isalpha():   # a value next to the other message's text
            part = part[1:]
        while part and not part[-1].isalpha():
            part = part[:-1]
        text = " ".join(part)
        if ("\n" + text + "\n") in fills or (" " + text + "\n") in fills or ("\n" + text + " ") in fills \
                or (" " + text + " ") in fills:
            return True
        if messages and part:
            head = part[0][:1].upper() + part[0][1:]   # a message quoted inside another, first letter lowered
            key = (head,) + tuple(part[1:])
            if key not in cache:
                cache[key] = any(_says(other, list(key), fills, most, anchored=True) for other in messages
                                 if len(other) > 1 and len(key) > 1 and other[:2] == list(key[:2]))
            return cache[key]
        return False

    memo = {}

    def match(i, j):
        if (i, j) not in memo:
            if j == len(words):
                memo[i, j] = True
            elif i == len(code):
                memo[i, j] = False
            elif code[i] is WILD:
                memo[i, j] = any(match(i + 1, j + k) for k in range(0, len(words) - j + 1) if fill(j, k))
            else:
                memo[i, j] = code[i] == words[j] and match(i + 1, j + 1)
        return memo[i, j]

    if anchored:  # a whole message from its first word
        return match(0, 0)
    return any(match(i, 0) for i in range(len(code)) if code[i] is WILD or code[i] == words[0])


def _by_place(problem):
    place = problem.split(": ", 1)[0]
    name, _colon, line = place.rpartition(":")
    return (name, int(line) if line.isdigit() else 0, problem)


def _import_playbook(item):
    for key in ("ansible.builtin.import_playbook", "import_playbook"):
        if key in item:
            return item[key]
    return None


def _cells(line):
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", text)]


def _anchors(path):
    seen = defaultdict(int)
    out = set()
    for _number, line in prose_lines(path):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).replace("`", "").lower()).replace(" ", "-")
        count = seen[slug]
        seen[slug] += 1
        out.add(slug if not count else "%s-%d" % (slug, count))
    return out


def _commands(text):
    """(line offset, words) of each simple command of a shell block, heredoc bodies left out."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        logical = lines[i]
        while logical.endswith("\\") and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + " " + lines[i]
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", logical)
        i += 1
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                i += 1
            i += 1
            logical = logical[:heredoc.start()]
        try:
            words = shlex.split(logical, comments=True)
        except ValueError:
            continue
        command = []
        for word in words:
            if word in ("&&", "||", ";", "|") or word.endswith(";"):
                if word.endswith(";") and word != ";":
                    command.append(word[:-1])
                yield start, command
                command = []
            else:
                command.append(word)
        yield start, command


def runnable_blocks(root):
    return [b for page in markdown_files(root) for b in blocks(page) if b.marker == "run"]


def check_docs(root):
    checker = Checker(root)
    return checker.run(), dict(checker.checked)
