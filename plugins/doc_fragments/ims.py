# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options that turn a credential into an IMS access token; shared by ims_token and accs_rest.
    DOCUMENTATION = r'''
options:
  vault_path:
    description:
      - Path of the credential document inside O(vault_mount), for example C(accs/prod).
      - The document holds C(client_id), C(client_secret) or C(client_secrets), C(grant_type), C(scopes),
        C(refresh_token), C(org_id); the collection writes C(access_token), C(access_token_expires_at) and
        C(refresh_token_issued_at) into it. See the collection guide.
      - Values missing from the options are taken from the document.
    type: str
  ims_url:
    description:
      - Base URL of Adobe IMS. Plain C(http://) is refused unless the host is a loopback address.
    type: str
    default: https://ims-na1.adobelogin.com
  client_id:
    description: IMS client id (API key). Taken from the credential document when not given.
    type: str
  client_secret:
    description:
      - IMS client secret of a confidential client. Taken from the document when not given; a document
        may hold C(client_secrets), a list tried in order when IMS answers C(invalid_client).
    type: str
  scopes:
    description: Scopes for C(client_credentials); ACCS needs C(commerce.accs).
    type: list
    elements: str
  min_ttl:
    description: A cached access token valid for at least this many more seconds is reused without calling IMS.
    type: int
    default: 600
  force_refresh:
    description: Ask IMS for a new token even when the cached one is still valid.
    type: bool
    default: false
  ims_client_auth:
    description: How the client authenticates at the token endpoint (C(client_secret_basic) or C(client_secret_post)).
    type: str
    choices: [basic, post]
    default: basic
  recovery_dir:
    description:
      - Where a rotated refresh token is saved (one 0600 file per credential) when IMS issued it but Vault
        refused the write. The next run stores it in Vault by itself.
      - Each file is named by the sha256 of the Vault address, mount and path, which it holds inside. Files of the
        earlier naming are still read when the record inside names the credential.
      - The file also holds the client fields of the credential (client id and secret, scopes, org id), so a
        document deleted meanwhile is restored from it.
      - Falls back to E(ACCS_RECOVERY_DIR); defaults to C(~/.ansible/adobe_commerce_accs/recovery).
    type: path
'''
