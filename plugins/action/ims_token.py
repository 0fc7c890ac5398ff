# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_ims_token
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import IMS_TOKEN_RULES, IMS_TOKEN_SPEC
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction


class ActionModule(EngineAction):
    MODULE = "adobe_commerce.accs.ims_token"
    SPEC = IMS_TOKEN_SPEC
    RULES = IMS_TOKEN_RULES
    OPERATION = staticmethod(run_ims_token)
    SECRET_RESULTS = ("access_token", "refresh_token")
