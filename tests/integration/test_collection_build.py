"""The collection builds with ansible-galaxy and installs like users get it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import yaml

from tests.support.ansible_runner import REPO_ROOT, collection_tarball

INSTALLED = Path("ansible_collections") / "adobe_commerce" / "accs"
NEVER_SHIPPED = ("tests", ".venv", ".git", ".ci", "build", "Makefile", ".pytest_cache")


def _galaxy():
    return yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))


def test_build_produces_one_tarball(collection_path):
    galaxy = _galaxy()
    tarball = collection_tarball(collection_path.parent)
    assert tarball.name == f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "MANIFEST.json" in names and "FILES.json" in names
    # galaxy.yml declares GPL-3.0-or-later: the licence text ships with the collection
    assert "LICENSE" in names, "LICENSE is not in the tarball (galaxy.yml build_ignore?)"
    top_level = {name.split("/", 1)[0] for name in names}
    for unwanted in NEVER_SHIPPED:
        assert unwanted not in top_level, f"{unwanted} is in the tarball"
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_installed_tree_has_galaxy_metadata(collection_path):
    galaxy = _galaxy()
    installed = collection_path / INSTALLED
    manifest = json.loads((installed / "MANIFEST.json").read_text(encoding="utf-8"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        galaxy["namespace"],
        galaxy["name"],
        galaxy["version"],
    )
    assert (installed / "FILES.json").is_file()
    assert (installed / "meta" / "runtime.yml").is_file()
    assert (installed / "README.md").is_file()
    license_text = (installed / "LICENSE").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in license_text and "Version 3, 29 June 2007" in license_text
    for unwanted in NEVER_SHIPPED:
        assert not (installed / unwanted).exists(), f"{unwanted} was installed"


def test_installed_collection_is_listed(collection_path, tmp_path):
    import subprocess

    from tests.support.ansible_runner import hermetic_env, venv_tool

    proc = subprocess.run(
        [venv_tool("ansible-galaxy"), "collection", "list", "adobe_commerce.accs", "--format", "json"],
        env=hermetic_env(
            {"ANSIBLE_COLLECTIONS_PATH": str(collection_path), "ANSIBLE_HOME": str(tmp_path / "home")}
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = json.loads(proc.stdout)
    versions = {name: data for paths in listed.values() for name, data in paths.items()}
    assert versions["adobe_commerce.accs"]["version"] == _galaxy()["version"]


def test_playbook_runs_against_installed_collection(run_playbook, collection_path):
    result = run_playbook(
        [
            {
                "name": "smoke",
                "hosts": "all",
                "gather_facts": False,
                "tasks": [
                    {"name": "where am I", "ansible.builtin.debug": {"msg": "{{ ansible_collection_name | default('none') }}"}},
                    {
                        "name": "vault env is set",
                        "ansible.builtin.assert": {
                            "that": [
                                "lookup('env', 'VAULT_ADDR') is match('http://127.0.0.1:')",
                                "lookup('env', 'VAULT_TOKEN') | length > 0",
                                "lookup('env', 'ANSIBLE_COLLECTIONS_PATH') == '" + str(collection_path) + "'",
                            ]
                        },
                    },
                ],
            }
        ],
        json=True,
    )
    result.assert_rc(0)
    assert result.task_results("vault env is set")["localhost"]["failed"] is False
    assert result.stats["localhost"]["failed"] == 0
    assert (result.output_dir / "stdout.txt").is_file()
    assert (result.output_dir / "ansible.log").is_file()
