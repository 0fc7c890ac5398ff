"""Turn build/reliability/matrix.json (written by the reliability suite) into tests/RELIABILITY.md.

    python tests/reliability/render_matrix.py            # write tests/RELIABILITY.md
    python tests/reliability/render_matrix.py --check    # compare with the committed file, exit 1 if stale

``make reliability-matrix`` runs the suite and then this script; ``make test`` runs the suite and
``--check``.  The output depends only on the cases (no dates, durations or ports), so the same
suite on the same engine renders the same file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MATRIX = REPO_ROOT / "build" / "reliability" / "matrix.json"
DEFAULT_OUTPUT = REPO_ROOT / "tests" / "RELIABILITY.md"
MAX_CELL = 420

PROMISES = [
    ("Every failure is one clear sentence",
     "each failing case asserts: the task failed (no silent success), and its msg is one line, starts with a capital "
     "letter or an option name, ends with a period, holds no traceback and no second sentence outside quoted server "
     "text, and names the failing part (the words listed per case in tests/reliability). Option-type errors worded "
     "by Ansible's argument-spec validator are checked for naming the option, no traceback and no secret."),
    ("Nothing lost",
     "after each Vault fault around a rotation the document keeps every key the user stored, and the newest refresh "
     "token IMS issued (the emulator's only valid one of the chain, checked without consuming it) is in Vault or in "
     "the 0600 recovery file the message names; the next run stores it by itself."),
    ("No secret anywhere",
     "every playbook run is -vvvv with ANSIBLE_LOG_PATH, the default callback in JSON format, a JSON-lines callback "
     "and junit; its stdout, stderr, log, results, junit report, HOME and Ansible tmp are searched for every secret "
     "the emulator and OpenBao issued or were given (plain, URL- and JSON-encoded), once after the run and again at "
     "the end of the suite. Recovery files (the documented exception) are kept outside the scanned folders."),
    ("No secret in AWX's records",
     "AWX and automation controller run playbooks through ansible-runner and keep its job events. The cases "
     "'ansible-runner artifacts: ...' (tests/reliability/test_awx_runner.py) run audit_store_config.yml, "
     "refresh_tokens.yml, validate_access.yml and both runs of a paste-mode bootstrap whose exchange fails through "
     "the ansible-runner package (Python API) at -vvvv, with Vault credentials in the environment (AppRole "
     "VAULT_ROLE_ID/VAULT_SECRET_ID, or VAULT_TOKEN) and the IMS client in extra vars, as an AWX credential passes "
     "them; then every file under the run's artifacts/ folder (job_events/*.json, stdout, stderr, command, rc, "
     "status) is searched for every secret the emulator and OpenBao issued or were given, and for any string shaped "
     "like an OpenBao token (the AppRole logins make tokens nobody registered). The one expected hit: ansible-runner "
     "writes the environment it was given into command, so the Vault credential appears there under its variable "
     "and nowhere else (AWX stores that environment redacted and deletes the artifacts after the job); prefer "
     "AppRole secret ids with few uses and a short TTL. Each case also checks that the run did its work (the "
     "expected exit code, tokens refreshed or refused), and a planted token proves the scan finds what it seeks."),
    ("TLS verification on by default; turning it off warns",
     "IMS and ACCS with an unknown CA or a wrong host name fail; without ca_path the emulator's private CA is not "
     "trusted; validate_certs: false works and warns."),
]


def _cell(text) -> str:
    text = " ".join(str(text if text is not None else "").split())
    # request ids (x-debug-id, debug_id) differ on every run: they are not part of what was observed
    text = re.sub(r"\b[0-9a-f]{32}\b", "<id>", text)
    # recovery file names hash the Vault address, whose port differs on every run
    text = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text.replace("|", "\\|")


def render(data: dict) -> str:
    cases = data["cases"]
    totals = data["totals"]
    out = []
    w = out.append
    w("# Reliability and security matrix")
    w("")
    w("Generated from `build/reliability/matrix.json` by `make reliability-matrix` (the suite in "
      "`tests/reliability`, then `tests/reliability/render_matrix.py`); `make test` runs the suite and fails when "
      "this file no longer matches what it observed. Do not edit by hand.")
    w("")
    w("Every case is a real playbook run of the built collection against a real OpenBao dev server and the "
      "IMS/ACCS emulator (`tests/emulator`), or a check on what that run left behind.")
    w("")
    w("## Totals")
    w("")
    w("| faults tried | survived | failed | known engine bugs | secrets found |")
    w("| ---: | ---: | ---: | ---: | ---: |")
    w("| %d | %d | %d | %d | %d |" % (totals["faults_tried"], totals["survived"], totals["failed"],
                                      totals["known_engine_bugs"], totals["secrets_found"]))
    w("")
    w("A *known engine bug* is a case whose expected behaviour the engine does not deliver yet: its test is "
      "`xfail(strict=True)` with the reason below, and turns into a failure once the engine is fixed, so the "
      "marker must then go.")
    w("")
    w("## Promises and how they are checked")
    w("")
    for title, how in PROMISES:
        w("- **%s**: %s" % (title, how))
    w("")
    categories = []
    for case in cases:
        if case["category"] not in categories:
            categories.append(case["category"])
    for category in categories:
        rows = [c for c in cases if c["category"] == category]
        survived = sum(1 for c in rows if c["result"] == "pass")
        w("## %s (%d cases, %d survived)" % (category, len(rows), survived))
        w("")
        w("| # | case | fault or input | expected | observed | result |")
        w("| ---: | --- | --- | --- | --- | --- |")
        for number, c in enumerate(rows, 1):
            result = {"pass": "pass", "fail": "**FAIL**", "known engine bug": "known engine bug"}.get(c["result"], c["result"])
            w("| %d | %s | %s | %s | %s | %s |" % (number, _cell(c["case"]), _cell(c["fault"]), _cell(c["expected"]),
                                                   _cell(c["observed"]), result))
        w("")
    bugs = [c for c in cases if c["result"] != "pass"]
    if bugs:
        w("## Open findings")
        w("")
        for c in bugs:
            w("- **%s** (%s, %s): %s" % (c["case"], c["category"], c["result"], " ".join(str(c["note"]).split())))
        w("")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", type=Path, default=DEFAULT_MATRIX)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    args = parser.parse_args(argv)
    if not args.matrix.is_file():
        print("render_matrix: %s is missing: run the reliability suite first (make reliability-matrix)." % args.matrix,
              file=sys.stderr)
        return 2
    data = json.loads(args.matrix.read_text(encoding="utf-8"))
    if not data.get("complete"):
        print("render_matrix: %s comes from a partial run of the suite (filtered, stopped early or with errors): "
              "run the whole suite (make reliability-matrix)." % args.matrix, file=sys.stderr)
        return 2
    text = render(data) + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current == text:
            print("render_matrix: %s matches the suite's observations (%d cases)." % (
                args.output.relative_to(REPO_ROOT) if args.output.is_relative_to(REPO_ROOT) else args.output,
                len(data["cases"])))
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "committed", "observed", lineterm="", n=0)
        sys.stdout.write("\n".join(list(diff)[:80]) + "\n")
        if _outcomes(current) == _outcomes(text):
            # Same cases, same verdicts: only the wording of an observed message moved (a timing, an OS
            # error text). That is worth a refresh, not a failed build.
            print("render_matrix: every case has its committed verdict, but some observed texts differ (above): "
                  "refresh the file with `make reliability-matrix` when convenient.")
            return 0
        print("render_matrix: %s is stale: the suite observed something else; run `make reliability-matrix` and "
              "commit the file." % args.output, file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print("render_matrix: wrote %s (%d cases)." % (args.output, len(data["cases"])))
    return 0


def _outcomes(markdown):
    """Each table row without its observed-behaviour cell: the case, what was expected, and the verdict."""
    rows = []
    for line in markdown.splitlines():
        cells = line.split(" | ")
        if line.startswith("| ") and len(cells) >= 6:
            rows.append(" | ".join(cells[:-2] + cells[-1:]))
        elif not line.startswith("| "):
            rows.append(line)
    return rows


if __name__ == "__main__":
    sys.exit(main())
