"""The docs say what the code does (issue 19): every page of docs/, README.md and CONTRIBUTING.md.

The checker (tests/support/docs_check.py) parses every fenced yaml, sh and hcl block and checks what
they use against the collection's own declarations, finds every message a troubleshooting table
quotes in the code, and every `accs_*`/`vault_*`/`VAULT_*`/`ACCS_*` name in backticks; blocks marked
``<!-- docs-test: run (...) -->`` are executed against a private OpenBao. The test of the test
renames a documented option, a role variable and two messages in a copy of the repository and
checks each is named, with file and line. Pages added later are read the same way (everything
under docs/ is scanned).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.ansible_runner import REPO_ROOT
from tests.support.docs_check import Checker, blocks, check_docs, markdown_files, runnable_blocks

COPIED = ("README.md", "CONTRIBUTING.md", "LICENSE", "CHANGELOG.md", "Makefile", "galaxy.yml", "docs", "plugins", "roles",
          "playbooks", "meta", "mk", "changelogs", "tests/RELIABILITY.md", "tests/bench/README.md")


def test_every_page_matches_the_code():
    problems, checked = check_docs(REPO_ROOT)
    assert not problems, "%d problems in the docs (file:line: what to fix):\n%s" % (len(problems), "\n".join(problems))
    # the checker really read the pages: blocks of each kind, the troubleshooting tables, names in backticks
    assert checked.get("yaml", 0) >= 20 and checked.get("sh", 0) >= 20 and checked.get("hcl", 0) >= 2, checked
    assert checked.get("messages", 0) >= 60 and checked.get("names", 0) >= 200, checked


def test_skipped_blocks_are_few_and_say_why():
    skipped = [b for page in markdown_files(REPO_ROOT) for b in blocks(page) if b.marker == "skip"]
    assert all(b.reason for b in skipped)
    assert len(skipped) <= 5, ["%s %s" % (b.where(REPO_ROOT), b.reason) for b in skipped]


def test_marked_blocks_run_against_openbao(openbao_factory, tmp_path):
    """The blocks marked run (Vault commands) work as written, on a fresh OpenBao dev server."""
    runnable = runnable_blocks(REPO_ROOT)
    assert runnable, "no block is marked <!-- docs-test: run (...) -->"
    server = openbao_factory()
    env = dict(os.environ, **server.env())
    env["PATH"] = "%s:%s" % (Path(shutil.which("bao") or REPO_ROOT / ".venv" / "bin" / "bao").parent, env["PATH"])
    for block in runnable:
        work = tmp_path / re.sub(r"\W+", "-", block.where(REPO_ROOT))
        work.mkdir()
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=work, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, "%s: the block failed as written:\n%s%s" % (
            block.where(REPO_ROOT), proc.stdout[-2000:], proc.stderr[-2000:])
    # what they stored are credential documents the collection reads
    client = server.client()
    listed = client.secrets.kv.v2.list_secrets(path="accs", mount_point="secret")["data"]["keys"]
    assert listed
    for name in listed:
        document = client.secrets.kv.v2.read_secret_version(path="accs/" + name, mount_point="secret",
                                                            raise_on_deleted_version=True)["data"]["data"]
        assert document.get("client_id") and document.get("grant_type") in ("refresh_token", "client_credentials")


# --------------------------------------------------------------------------- the test of the test
@pytest.fixture
def repo_copy(tmp_path):
    root = tmp_path / "repo"
    for name in COPIED:
        source = REPO_ROOT / name
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, target)
    return root


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, "%s no longer holds %r: update the test of the test" % (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError("%r not in %s" % (needle, path))


def test_the_check_fails_when_a_documented_option_or_message_is_renamed(repo_copy):
    assert Checker(repo_copy).run() == [], "the copy starts clean"
    readme, guide = repo_copy / "README.md", repo_copy / "docs" / "guide.md"
    # an option of accs_rest that README's task uses
    _edit(repo_copy / "plugins" / "modules" / "accs_rest.py", "\n  paginate:\n", "\n  paginate_all:\n")
    # a role variable that README's play sets
    _edit(repo_copy / "roles" / "store_config_audit" / "meta" / "argument_specs.yml",
          "\n      accs_audit_report_dir:\n", "\n      accs_audit_reports_dir:\n")
    # a message the Vault table quotes, and the hint of a message composed of parts (ACCS 403)
    _edit(repo_copy / "plugins" / "module_utils" / "_vault.py", "is sealed or not ready", "is sealed or unavailable")
    _edit(repo_copy / "plugins" / "module_utils" / "_accs.py",
          "the credential's organization or permissions do not allow this", "the organization or role forbids this")
    # a message a paragraph quotes in italics
    _edit(repo_copy / "plugins" / "module_utils" / "_operations.py", "is empty or blank: give its value",
          "is blank: give a value")
    # an option renamed everywhere in the code (the playbook variable that carries it too)
    for path in [p for folder in ("plugins", "playbooks") for p in (repo_copy / folder).rglob("*") if p.is_file()]:
        text = path.read_text(encoding="utf-8")
        if "refresh_token_max_age" in text:
            path.write_text(text.replace("refresh_token_max_age", "refresh_token_max_seconds"), encoding="utf-8")
    # the docs' side: a variable in a command line, and one in backticks
    _edit(guide, "-e accs_export_dir=inventory", "-e accs_export_directory=inventory")
    _edit(guide, "| `accs_store_code` | both roles", "| `accs_store_kode` | both roles")

    problems = Checker(repo_copy).run()
    text = "\n".join(problems)
    expected = [
        ("README.md:%d: adobe_commerce.accs.accs_rest has no option 'paginate'"
         % _line_of(readme, "- name: Every enabled product")),
        ("README.md:%d: role adobe_commerce.accs.store_config_audit has no variable 'accs_audit_report_dir'"
         % _line_of(readme, "# audit.yml: copy")),
        "docs/guide.md:%d: the message `Vault at ... is sealed or not ready` is not in plugins/" % _line_of(
            guide, "`Vault at ... is sealed or not ready`"),
        "docs/guide.md:%d: the message `ACCS answered HTTP 403 ...; the credential's organization" % _line_of(
            guide, "`ACCS answered HTTP 403"),
        "docs/guide.md:%d: -e accs_export_directory=inventory: no playbook, role or plugin reads" % _line_of(
            guide, "-e accs_export_directory=inventory"),
        "docs/guide.md:%d: `accs_store_kode` names nothing" % _line_of(guide, "`accs_store_kode`"),
        "docs/awx.md:%d: the paragraph quotes *Option vault_token is empty or blank" % _line_of(
            repo_copy / "docs" / "awx.md", "Inject only variables that have a value"),
        "docs/guide.md:%d: `refresh_token_max_age` is an option or key nothing in plugins/" % _line_of(
            guide, "`refresh_token_max_age` compares with it"),
        "docs/guide.md:%d: `accs_refresh_token_max_age` names nothing" % _line_of(
            guide, "| `accs_refresh_token_max_age` |"),
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), "not reported: %s\nreported:\n%s" % (start, text)
    # nothing else is reported than what was renamed (the roles page quotes the sealed message too,
    # bootstrap.md names accs_refresh_token_max_age as well)
    renamed = ("paginate", "accs_audit_report_dir", "is sealed or not ready", "organization or permissions",
               "empty or blank", "refresh_token_max_age", "accs_export_directory", "accs_store_kode")
    assert all(any(name in p for name in renamed) for p in problems), text
    assert len(problems) <= len(expected) + 3, text


def test_the_check_reads_pages_added_later(repo_copy):
    page = repo_copy / "docs" / "new-chapter.md"
    page.write_text("# New chapter\n\nSet `accs_fleet_report_pth` for the page.\n\n"
                    "```yaml\n- name: A task\n  adobe_commerce.accs.ims_token:\n    vault_pth: accs/prod\n```\n\n"
                    "<!-- docs-test: skip -->\n```sh\nnot checked\n```\n\n"
                    "| message starts with | fix |\n| --- | --- |\n| `No such message in the collection at all` | none |\n",
                    encoding="utf-8")
    problems = Checker(repo_copy).run()
    assert problems == [
        "docs/new-chapter.md:3: `accs_fleet_report_pth` names nothing in plugins/, roles/, playbooks/ or meta/: fix the name",
        "docs/new-chapter.md:6: adobe_commerce.accs.ims_token has no option 'vault_pth' (its DOCUMENTATION and doc "
        "fragments): use one of %s" % ", ".join(sorted(Checker(repo_copy).code.modules["ims_token"])),
        "docs/new-chapter.md:12: the docs-test skip marker before this block needs its reason: <!-- docs-test: "
        "skip (why this block cannot be checked) -->",
        "docs/new-chapter.md:18: the message `No such message in the collection at all` is not in plugins/, roles/ "
        "or playbooks/ (no message says \"No such message in the collection at all\"): quote the code's sentence as "
        "it is now (`...` for the parts that vary)",
    ], "\n".join(problems)
