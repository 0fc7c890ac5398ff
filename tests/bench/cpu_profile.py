"""Where the CPU of one ``ansible-playbook`` run goes: py-spy's raw stacks grouped by what Ansible is doing.

    py-spy record --subprocesses --format raw -r 100 -o stacks.txt -- ansible-playbook ...
    python tests/bench/cpu_profile.py stacks.txt

``run_bench.py --cpu-profile`` does both (py-spy must be on PATH or in the venv; it is not a test
dependency). Each sample is one stack of one process (the controller's main process, or a worker it forked
for one task and host) that was running, not waiting. A stack is counted once, under the first area of
AREAS whose marker appears in it, searched from the innermost frame outwards: time spent in jinja2 under the
collection's filter counts as templating, the collection's own code counts as the collection's unless it is
waiting for ``requests``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# (area, markers): a frame matches when one of the markers is in "function (file:line)"; py-spy names a file by
# its path below sys.path ("(requests/sessions.py:589)") and the collection's below its plugins folder
# ("(module_utils/_http.py:120)", "(accs_audit.py:40)")
AREAS = (
    ("HTTP and TLS (requests, urllib3, hvac, ssl, socket)", ("(requests/", "(urllib3/", "(hvac/", "(ssl.py",
                                                             "(socket.py", "(http/client.py")),
    ("imports", ("_find_and_load", "<frozen importlib")),
    ("templating (Jinja2, Ansible's templar)", ("(jinja2/", "/_templating/", "(ansible/template/")),
    ("the collection: audit, comparison, reports", ("(plugin_utils/_", "(module_utils/_", "(accs_", "(ims_")),
    ("argument and variable validation", ("post_validate", "validate_argument_spec", "/arg_spec.py",
                                          "/parameters.py", "/validation.py")),
    ("forking workers, queues, pickling", ("os.fork", "_launch_worker", "(multiprocessing/", "pickle",
                                           "queue_task", "_queue")),
    ("callbacks and output", ("send_callback", "/callback/", "/plugins/callback", "display.py")),
    ("variables (VariableManager.get_vars)", ("get_vars", "(ansible/vars/")),
    ("results (strategy's result processing)", ("_process_pending_results", "_wait_on_pending_results",
                                                "task_result.py", "/_task.py")),
    ("task execution (TaskExecutor, action loading)", ("task_executor.py", "(ansible/plugins/action/__init__.py",
                                                       "plugins/loader.py")),
)
OTHER = "other (Ansible's strategy, play iterator, inventory, ...)"
LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
PROCESS = re.compile(r"^process (\d+)")


def _frames(stack: str) -> list[str]:
    return stack.split(";")


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, markers in AREAS:
            if any(marker in frame for marker in markers):
                return area
    return OTHER


def summarize(text: str) -> dict:
    """{"total": samples, "areas": Counter, "main": Counter, "worker": Counter} of py-spy's raw output."""
    areas, main, worker = Counter(), Counter(), Counter()
    total = 0
    for line in text.splitlines():
        found = LINE.match(line.strip())
        if not found:
            continue
        frames = _frames(found["stack"])
        # the stack opens with its process, under its parent's: one frame for ansible-playbook, two for a worker
        processes = sum(1 for frame in frames if PROCESS.match(frame))
        count = int(found["count"])
        area = _area(frames[processes:])
        total += count
        areas[area] += count
        (main if processes < 2 else worker)[area] += count
    return {"total": total, "areas": areas, "main": main, "worker": worker}


def table(summary: dict, size: int | None = None, rate: int | None = None) -> str:
    """A Markdown table: samples per area, share, in the main process and in the workers."""
    total = summary["total"] or 1
    lines = ["| area | share | main process | workers |" + (" CPU ms per environment |" if size and rate else ""),
             "| --- | ---: | ---: | ---: |" + (" ---: |" if size and rate else "")]
    for area, count in summary["areas"].most_common():
        row = "| %s | %.0f%% | %.0f%% | %.0f%% |" % (area, 100.0 * count / total, 100.0 * summary["main"][area] / total,
                                                     100.0 * summary["worker"][area] / total)
        if size and rate:
            row += " %.1f |" % (1000.0 * count / rate / size)
        lines.append(row)
    main = sum(summary["main"].values())
    lines.append("| all | 100%% | %.0f%% | %.0f%% |" % (100.0 * main / total, 100.0 * (total - main) / total)
                 + (" %.1f |" % (1000.0 * total / rate / size) if size and rate else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    print(table(summarize(Path(argv[0]).read_text(encoding="utf-8"))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
