"""The fleet HTML report of audit_store_config.yml: parsed, and rendered in headless Chromium.

One audit run over three environments (clean, drifted, unreadable) writes the page; one test
reads it as a person's browser would get it (structure, statuses, drift details, no external
asset), another opens it in headless Chromium and checks the screenshot shows the page's
pass and fail colours.
"""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.integration.helpers import role_host as host, seed_credential, unique
from tests.integration.test_roles_audit import DRIFTED_EXPECTED, drifted_tenant
from tests.support.ansible_runner import REPO_ROOT, installed_playbook, run_ansible_playbook

KEPT = REPO_ROOT / "build" / "test-output" / "test_fleet_report"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
PASS_BG = (0xDA, 0xFB, 0xE1)
FAIL_BG = (0xFF, 0xEB, 0xE9)
ERROR_BG = (0xFF, 0xF8, 0xC5)
COLUMNS = ["Environment", "Result", "Stores", "Secure URLs use https", "Every store view has a config",
           "Config belongs to a known website", "Expected values", "Details"]


@pytest.fixture(scope="module")
def fleet_page(emulator, openbao, collection_path, tmp_path_factory):
    clean = seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600)
    drifted = seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600,
                              tenant_data=drifted_tenant())
    absent = seed_credential(emulator, openbao, write=False, vault_path="accs/" + unique("absent"))
    hosts = {"clean": host(emulator, clean),
             "drifted": host(emulator, drifted, accs_expected_store_configs=DRIFTED_EXPECTED),
             "unreadable": host(emulator, absent)}
    report_dir = KEPT / "reports"
    shutil.rmtree(KEPT, ignore_errors=True)
    result = run_ansible_playbook(
        installed_playbook(collection_path, "audit_store_config.yml"),
        work_dir=tmp_path_factory.mktemp("fleet-work"), output_dir=KEPT, collections_path=collection_path,
        inventory={"all": {"children": {"accs": {"hosts": hosts}}}},
        extra_vars={"accs_audit_report_dir": str(report_dir),
                    "accs_fleet_report_path": str(report_dir / "fleet" / "index.html")},
        base_env=openbao.env(), forks=5)
    assert result.rc == 2, result.stdout[-3000:]
    page = report_dir / "fleet" / "index.html"
    assert "Fleet report: %s" % page in result.stdout
    return page, report_dir


class Page(html.parser.HTMLParser):
    """Rows of the fleet table: per row its attributes, its cells' text and classes, its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.headers = []
        self.rows = []
        self._cell = None
        self._in_th = False
        self._depth = 0  # nesting of tables inside the fleet table (drift details)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table" and attrs.get("class") == "drift":
            self._depth += 1
        if self._depth:
            if self._cell is not None and tag == "tr":
                self._cell["drift_rows"].append([])
            if self._cell is not None and tag == "td":
                self._cell["drift_rows"][-1].append("")
            return
        if tag == "th":
            self._in_th = True
            self.headers.append("")
        elif tag == "tr" and "data-env" in attrs:
            self.rows.append({"attrs": attrs, "cells": [], "links": []})
        elif tag == "td" and self.rows:
            self._cell = {"text": "", "class": attrs.get("class", ""), "colspan": int(attrs.get("colspan", 1)),
                          "drift_rows": []}
            self.rows[-1]["cells"].append(self._cell)
        elif tag == "a" and self.rows:
            self.rows[-1]["links"].append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag == "th":
            self._in_th = False
        elif tag == "td" and not self._depth:
            self._cell = None

    def handle_data(self, data):
        if self._depth and self._cell is not None and self._cell["drift_rows"] and self._cell["drift_rows"][-1]:
            self._cell["drift_rows"][-1][-1] += data
        elif self._in_th and not self._depth:
            self.headers[-1] += data
        elif self._cell is not None:
            self._cell["text"] += data


def parse(page: Path) -> Page:
    parser = Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_fleet_page_shows_each_environment_and_check(fleet_page):
    page, report_dir = fleet_page
    parsed = parse(page)
    assert parsed.headers == COLUMNS
    rows = {row["attrs"]["data-env"]: row for row in parsed.rows}
    assert list(rows) == ["clean", "drifted", "unreadable"]
    assert {n: r["attrs"]["data-status"] for n, r in rows.items()} == {
        "clean": "pass", "drifted": "fail", "unreadable": "error"}

    clean = [cell["text"].strip() for cell in rows["clean"]["cells"]]
    assert clean[1:7] == ["\u2713 passed", "2", "\u2713 pass", "\u2713 pass", "\u2713 pass", "off"]
    drifted = rows["drifted"]["cells"]
    assert [c["text"].strip() for c in drifted[1:7]] == [
        "\u2717 drift", "2", "\u2717 1 drift", "\u2717 1 drift", "\u2717 1 drift", "\u2717 2 drift"]
    assert all("fail" in c["class"] for c in drifted[3:7])
    unreadable = rows["unreadable"]["cells"]
    assert unreadable[2]["text"] == "not audited" and unreadable[2]["colspan"] == 5
    assert "No credential at 'secret/accs/absent-" in unreadable[-1]["text"]

    # drift details on demand: the same entries as the JSON report
    document = json.loads((report_dir / "drifted-store-config.json").read_text())
    shown = drifted[-1]["drift_rows"][1:]
    assert [row[0] for row in shown] == [d["store"] for d in document["drift"]]
    assert [(row[1], row[4]) for row in shown] == [(d["field"], d["rule"]) for d in document["drift"]]
    assert shown[1][2:4] == ['"https://www.example.com/"', '"http://www.example.com/"']
    assert "<details>" in page.read_text() and "5 drifts" in drifted[-1]["text"]

    # links to the environment's own reports, relative to the page
    assert rows["drifted"]["links"] == ["../drifted-store-config.md", "../drifted-store-config.json",
                                        "../drifted-store-config.junit.xml"]
    for link in rows["drifted"]["links"]:
        assert (page.parent / link).is_file()


def test_fleet_page_needs_nothing_from_the_network(fleet_page):
    page, report_dir = fleet_page
    text = page.read_text(encoding="utf-8")
    parsed = parse(page)
    tags = {tag for tag, tag_attrs in parsed.tags}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "video", "audio", "source"}
    for _tag, attrs in parsed.tags:
        assert "src" not in attrs
        href = attrs.get("href") or ""
        assert "://" not in href and not href.startswith("//"), href
    assert "url(" not in text and "@import" not in text and "<style>" in text
    assert "default-src 'none'" in text


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def chromium():
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() != 0:
        pytest.skip("Chromium is not installed and the tests do not run as root, so they cannot apt-get install "
                    "it: install the Debian package chromium to run the browser test.")
    if not shutil.which("apt-get"):
        pytest.skip("Chromium is not installed and there is no apt-get here to install the Debian package chromium.")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
        assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(cmd), proc.stderr[-2000:])
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("apt-get installed chromium but no chromium binary is on PATH")


def read_png(path: Path):
    """(width, height, rows of RGB tuples) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, compression, filter_method, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def test_fleet_page_renders_in_headless_chromium(fleet_page, chromium, tmp_path):
    page, report_dir = fleet_page
    shot = KEPT / "fleet-report.png"
    if shot.exists():
        shot.unlink()
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,800",
           "--user-data-dir=%s" % (tmp_path / "profile"), "--screenshot=%s" % shot, page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False,  # noqa: S603
                          env=dict(os.environ, HOME=str(tmp_path)))
    assert shot.is_file(), "no screenshot (rc %s):\n%s" % (proc.returncode, proc.stderr[-3000:])
    assert shot.stat().st_size > 10_000, "screenshot is suspiciously small"
    width, height, rows = read_png(shot)
    assert (width, height) == (1280, 800)
    colours = {}
    for row in rows[::2]:
        for pixel in row[::2]:
            colours[pixel] = colours.get(pixel, 0) + 1
    assert len(colours) > 50, "the screenshot is (nearly) one colour: the page did not render"
    # pass (green), drift (red) and not-audited (yellow) cells are visible at a glance
    for name, colour in (("pass", PASS_BG), ("fail", FAIL_BG), ("error", ERROR_BG)):
        assert colours.get(colour, 0) > 500, "hardly any %s colour %s in the screenshot" % (name, colour)


@pytest.mark.parametrize("playbook,page", [("audit_store_config.yml", "fleet-store-config.html"),
                                           ("audit_fleet.yml", "fleet-audit.html")])
def test_fleet_page_follows_the_group_report_dir(emulator, openbao, collection_path, tmp_path, playbook, page):
    """accs_audit_report_dir as a group variable (as inventory.example.yml offers it) moves the fleet page too."""
    clean = seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600)
    report_dir = KEPT / ("group-dir-" + playbook.split(".")[0])
    shutil.rmtree(report_dir, ignore_errors=True)
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    result = run_ansible_playbook(
        installed_playbook(collection_path, playbook),
        work_dir=work_dir, output_dir=report_dir / "run", collections_path=collection_path,
        inventory={"all": {"children": {"accs": {"vars": {"accs_audit_report_dir": str(report_dir)},
                                                 "hosts": {"clean": host(emulator, clean)}}}}},
        base_env=openbao.env(), forks=2)
    assert result.rc == 0, result.stdout[-3000:]
    assert (report_dir / page).is_file(), result.stdout[-3000:]
    assert (report_dir / "clean-store-config.json").is_file()
    assert not (work_dir / "accs-reports").exists()
