# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The attributes of the action plugins that write report files on the controller.
    REPORT_WRITER = r'''
attributes:
  check_mode:
    support: full
    description: Nothing is written in check mode.
  action:
    support: full
    description: An action plugin; it runs on the controller, in the worker of the task, whatever the host's connection.
  platform:
    support: full
    platforms: all
    description: Writes on the controller only.
'''
