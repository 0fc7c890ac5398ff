# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The ACCS instance a resource module talks to.
    DOCUMENTATION = r'''
options:
  base_url:
    description:
      - The instance's REST base URL, C(https://<region>.api.commerce.adobe.com/<tenant-id>).
      - Plain C(http://) is refused unless the host is a loopback address.
    type: str
    required: true
  access_token:
    description:
      - A bare access token to use instead of O(vault_path). A 401 then fails, as there is nothing to refresh.
    type: str
  api_key:
    description: Sent as C(x-api-key). Defaults to the credential's C(client_id).
    type: str
  org_id:
    description: IMS organization id, sent as C(x-gw-ims-org-id). Defaults to the credential's C(org_id).
    type: str
'''

    # Which configuration values are credentials.
    SENSITIVE_PATHS = r'''
options:
  sensitive_paths:
    description:
      - Glob patterns (C(fnmatch), matched against the whole path) of configuration paths whose values are credentials.
        Their values are compared but never shown in results, diffs, reports or errors (shown as C((sensitive))).
      - Leave it out for the default list, which covers passwords, secrets, tokens, API, merchant, private, access and
        license keys, signatures and credentials (C(*password*), C(*secret*), C(*token*), C(*api_key*),
        C(*merchant_key*), ...). Giving it replaces that list; use O(extra_sensitive_paths) to add to it.
    type: list
    elements: str
  extra_sensitive_paths:
    description: Glob patterns added to O(sensitive_paths) (or to its default list).
    type: list
    elements: str
'''
