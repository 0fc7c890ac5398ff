# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._system_config import SYSTEM_CONFIG
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction


class ActionModule(EngineAction):
    OPERATION = SYSTEM_CONFIG
    # settings may hold credentials that no_log cannot name in advance (sensitive_paths decides).
    ARGS_MAY_HOLD_SECRETS = True
