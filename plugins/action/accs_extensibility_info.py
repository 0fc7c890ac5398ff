# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import run_extensibility_info
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import ACCS_CONNECTION_RULES, EXTENSIBILITY_INFO_SPEC
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction


class ActionModule(EngineAction):
    MODULE = "adobe_commerce.accs.accs_extensibility_info"
    SPEC = EXTENSIBILITY_INFO_SPEC
    RULES = ACCS_CONNECTION_RULES
    OPERATION = staticmethod(run_extensibility_info)
