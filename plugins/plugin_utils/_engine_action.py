# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that run the engine inside the controller's worker.

A module run costs a new Python process and the collection's imports; over hundreds of
environments that start-up dominates. With a local connection the same engine code the
module uses runs here instead; with any other connection the module runs on the target.
"""

from __future__ import annotations

import os

from ansible.module_utils.ansible_release import __version__ as ansible_version
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import (
    TRACEBACK_KEY,
    scrubbed_traceback,
    unexpected_error_message,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import INTERNAL_KIND, AccsError

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
# ansible-core 2.19 shows a result's `exception` only with ANSIBLE_DISPLAY_TRACEBACK, no longer at -vvv
CALLBACK_SHOWS_TRACEBACK_AT_VVV = tuple(int(p) for p in ansible_version.split(".")[:2] if p.isdigit()) < (2, 19)

display = Display()


def no_log_values(spec, params):
    """The values of the ``no_log`` options in the validated ``params`` (fallbacks and defaults included).

    ansible-core keeps its own set in a private attribute of the validation result; this reads only the
    spec and the validated parameters, and a unit test pins it to core's set on each release."""
    hidden = set()

    def add(value):
        if isinstance(value, dict):
            for item in value.values():
                add(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                add(item)
        elif value is not None and not isinstance(value, bool) and str(value):
            hidden.add(str(value))

    for name, option in spec.items():
        value = params.get(name)
        if option.get("no_log"):
            add(value)
        elif option.get("options") and value:  # suboptions: of a dict, or of each element of a list
            for element in value if isinstance(value, list) else [value]:
                if isinstance(element, dict):
                    hidden |= no_log_values(option["options"], element)
    return hidden


def failed_result(err):
    """The result of a step that raised ``err`` (an AccsError): its details, its sentence and its kind."""
    return dict(err.details, failed=True, msg=err.message, error_kind=err.kind)


class EngineAction(ActionBase):
    OPERATION = None    # a module_utils._operations.Operation: module name, spec, rules, typed options, engine
    SECRET_RESULTS = ()  # result keys that hold a secret: such a result is hidden from output
    ARGS_MAY_HOLD_SECRETS = False  # options whose values may be secret without no_log (e.g. sensitive settings)

    _supports_check_mode = True
    _supports_async = False

    def _runs_locally(self):
        names = {getattr(self._connection, "transport", None), getattr(self._connection, "_load_name", None),
                 getattr(self._play_context, "connection", None)}
        return bool(names & set(LOCAL_CONNECTIONS))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._runs_locally():
            result.update(self._execute_module(module_name=self.OPERATION.name, module_args=self._task.args,
                                               task_vars=task_vars))
            if self.ARGS_MAY_HOLD_SECRETS:
                result.pop("invocation", None)
            self._show_traceback(result)
            return self._hide_secrets(result)
        operation = self.OPERATION

        def call(params, hidden, warnings):
            return operation(params, check_mode=bool(self._task.check_mode), warnings=warnings)

        return self._run_in_process(result, operation.spec, operation.rules, call)

    def _run_in_process(self, result, spec, rules, step):
        """Validate the task's options against ``spec`` and run ``step(params, hidden, warnings)`` here.

        ``hidden`` starts as the no_log values of the options; a step adds the secrets it makes, and
        none of them leaves in the result, as AnsibleModule guarantees for a module.
        """
        # The task's `environment:` applies as it would to a module process (env fallbacks such as
        # VAULT_ADDR); this worker process ends with the task, so the change does not leak.
        task_env = {}
        self._compute_environment_string(task_env)
        os.environ.update({k: str(v) for k, v in task_env.items()})
        _validation, params = self.validate_argument_spec(argument_spec=spec, **rules)
        hidden = no_log_values(spec, params)
        warnings = []
        try:
            outcome = step(params, hidden, warnings)
        except AccsError as err:
            outcome = failed_result(err)
        except Exception as exc:  # a bug: one sentence; the traceback, scrubbed, goes to `exception` (-vvv)
            outcome = {"failed": True, "msg": unexpected_error_message(exc), "error_kind": INTERNAL_KIND,
                       "exception": scrubbed_traceback(hidden)}
        if warnings:
            outcome["warnings"] = warnings
        result.update(remove_values(outcome, hidden))
        self._show_traceback(result)
        return self._hide_secrets(result)

    def _show_traceback(self, result):
        """Print a failure's traceback at -vvv where the callback no longer does (ansible-core 2.19+).

        The `exception` key stays in the result: earlier releases show it at -vvv themselves, 2.19 with
        ANSIBLE_DISPLAY_TRACEBACK=error, and registered results and JSON callbacks keep it."""
        carried = result.pop(TRACEBACK_KEY, None)  # from the module, which 2.19 may strip `exception` from
        if carried and not result.get("exception"):
            result["exception"] = carried
        text = result.get("exception")
        if result.get("failed") and isinstance(text, str) and text and not CALLBACK_SHOWS_TRACEBACK_AT_VVV:
            display.vvv("The full traceback is:\n" + text.rstrip("\n"))

    def _hide_secrets(self, result):
        # A result holding a token is censored in every callback's output, as if the task had
        # no_log: true; `register` still gets it whole. Failures hold no secret and stay readable.
        if any(result.get(key) for key in self.SECRET_RESULTS):
            result["_ansible_no_log"] = True
        return result
