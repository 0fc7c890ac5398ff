"""The execution environment definition (issue 8): `ansible-builder create` makes a build context
that would install this collection and its Python needs in AWX / Ansible Automation Platform.

No container engine runs here, so the image is not built.  Instead the test checks the context
``ansible-builder create`` writes, and replays offline the two steps of the build that decide what
the image holds: the galaxy stage (``ansible-galaxy collection install -r requirements.yml`` from
the context's own folder, as the Containerfile runs it in /build) and the builder stage's
dependency introspection (the context's ``introspect.py`` over the installed collection).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.support.ansible_runner import REPO_ROOT, collection_tarball, hermetic_env, venv_tool

EE_FILES = ("execution-environment.yml", "requirements.yml", "requirements.txt")


def _run(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    proc = subprocess.run(  # noqa: S603
        args, cwd=cwd, env=env or hermetic_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(args)} failed (rc {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    return proc


def _requirement_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope="module")
def ee_context(collection_path, tmp_path_factory) -> tuple[Path, dict]:
    """``ansible-builder create`` run on a copy of the repository's EE files, with the collection
    tarball where execution-environment.yml expects it (build/ee/); returns (context, definition)."""
    workdir = tmp_path_factory.mktemp("ee")
    for name in EE_FILES:
        shutil.copy(REPO_ROOT / name, workdir / name)
    (workdir / "build" / "ee").mkdir(parents=True)
    # the tarball `ansible-galaxy collection build --output-path build/ee` makes (built once per
    # session by the collection_path fixture)
    tarball = collection_tarball(collection_path.parent)
    shutil.copy(tarball, workdir / "build" / "ee" / tarball.name)
    context = workdir / "context"
    _run(
        [venv_tool("ansible-builder"), "create", "-f", "execution-environment.yml", "--context", str(context),
         "--output-filename", "Containerfile", "-v", "3"],
        cwd=workdir,
        env=hermetic_env({"HOME": str(workdir / "home")}),
    )
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    return context, definition


def test_definition_is_version_3_with_python_and_galaxy_needs():
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    assert definition["version"] == 3
    deps = definition["dependencies"]
    assert deps["python"] == "requirements.txt"
    assert deps["galaxy"] == "requirements.yml"
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")


def _core_releases(requirement: str) -> set[str]:
    """The ansible-core minor releases (2.x) from 2.15 to 2.30 that a pip requirement allows."""
    spec = SpecifierSet(re.fullmatch(r"ansible-core\s*(.+)", requirement.strip()).group(1))
    return {"2.%d" % minor for minor in range(15, 31) if spec.contains("2.%d.0" % minor)}


def test_image_has_the_newest_supported_ansible_core_on_python_3_12_or_newer():
    """The image runs ansible-core 2.21, the newest release requirements.txt (2.19 to 2.21) allows,
    on a Python that release supports (3.12 or newer)."""
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    deps = definition["dependencies"]
    supported = _core_releases(
        re.search(r"^ansible-core\S*", (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M).group(0)
    )
    assert supported == {"2.19", "2.20", "2.21"}
    in_image = _core_releases(deps["ansible_core"]["package_pip"])
    assert in_image == {"2.21"}, "the image's ansible-core allows %s, not 2.21 alone" % sorted(in_image)
    assert in_image <= supported
    python = re.fullmatch(r"/usr/bin/python(3)\.(\d+)", deps["python_interpreter"]["python_path"])
    assert python and int(python.group(2)) >= 12, "ansible-core 2.21 needs Python 3.12 or newer"
    base = definition["images"]["base_image"]["name"]
    # CentOS Stream 10's system Python is 3.12 (Stream 9's is 3.9, too old for ansible-core 2.21)
    assert base == "quay.io/centos/centos:stream10"


def test_create_writes_containerfile_and_requirements(ee_context):
    context, definition = ee_context
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    base = definition["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base}"' in containerfile
    assert f'ARG PYCMD="{definition["dependencies"]["python_interpreter"]["python_path"]}"' in containerfile
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M).group(1)
    assert definition["dependencies"]["ansible_core"]["package_pip"] in refs
    assert definition["dependencies"]["ansible_runner"]["package_pip"] in refs
    # the galaxy stage installs requirements.yml from the copied context, in /build
    assert "COPY _build /build" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements\.yml", containerfile)
    assert "--user-pip=requirements.txt" in containerfile

    build = context / "_build"
    assert (build / "requirements.txt").read_text(encoding="utf-8") == (REPO_ROOT / "requirements.txt").read_text(
        encoding="utf-8"
    )
    assert yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8")) == yaml.safe_load(
        (REPO_ROOT / "requirements.yml").read_text(encoding="utf-8")
    )
    for script in ("assemble", "introspect.py", "install-from-bindep", "entrypoint"):
        assert (build / "scripts" / script).is_file(), script


def test_requirements_yml_names_the_tarball_of_this_version(ee_context):
    """requirements.yml's file name and galaxy.yml's version must move together."""
    context, _definition = ee_context
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    entries = requirements["collections"]
    assert len(entries) == 1 and entries[0]["type"] == "file"
    expected = f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    assert Path(entries[0]["name"]).name == expected, (
        f"requirements.yml installs {entries[0]['name']}, but galaxy.yml's version builds {expected}: update "
        "requirements.yml"
    )
    tarball = context / "_build" / entries[0]["name"]
    assert tarball.is_file(), f"{tarball} is not in the build context"
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (galaxy["namespace"], galaxy["name"], galaxy["version"])


def test_galaxy_stage_and_introspection_give_the_collection_and_its_python_needs(ee_context, tmp_path):
    context, _definition = ee_context
    build = context / "_build"
    collections = tmp_path / "collections"
    env = hermetic_env({"ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "1"})
    # what the Containerfile's galaxy stage runs (WORKDIR /build), offline: only the local tarball
    _run([venv_tool("ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
          "--collections-path", str(collections)], cwd=build, env=env)
    installed = collections / "ansible_collections" / "adobe_commerce" / "accs"
    for needed in ("MANIFEST.json", "meta/runtime.yml", "plugins/modules/ims_token.py", "plugins/modules/accs_rest.py",
                   "requirements.txt"):
        assert (installed / needed).is_file(), f"{needed} missing from the collection installed in the image"
    assert (installed / "roles" / "store_config_audit").is_dir()
    assert (installed / "playbooks" / "audit_store_config.yml").is_file()

    # what the builder stage runs: the Python needs of the installed collections plus the user's
    out = tmp_path / "introspect"
    _run([str(Path(venv_tool("python"))), str(build / "scripts" / "introspect.py"), "introspect",
          "--user-pip=requirements.txt", "--write-pip", str(out / "requirements.txt"),
          "--write-bindep", str(out / "bindep.txt"), str(collections)], cwd=build, env=env)
    lines = (out / "requirements.txt").read_text(encoding="utf-8").splitlines()
    from_collection = _requirement_names("\n".join(line for line in lines if "from collection adobe_commerce.accs" in line))
    # the collection's own requirements.txt travels with it; ansible-core is left to the image's ansible_core
    assert {"requests", "hvac"} <= set(from_collection)
    assert "ansible-core" not in from_collection
    runtime = set(_requirement_names((REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")))
    assert runtime <= set(_requirement_names("\n".join(lines))), "a runtime need of requirements.txt is not in the image"
