# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_accs_rest
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import ACCS_REST_RULES, ACCS_REST_SPEC
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction


class ActionModule(EngineAction):
    MODULE = "adobe_commerce.accs.accs_rest"
    SPEC = ACCS_REST_SPEC
    RULES = ACCS_REST_RULES
    OPERATION = staticmethod(run_accs_rest)
