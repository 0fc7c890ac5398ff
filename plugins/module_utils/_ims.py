# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adobe IMS client: one token request, and each grant a small function over it.

For internal collection use only.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets as _secrets
from urllib.parse import urlencode

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    ImsError,
    InvalidClientError,
    InvalidGrantError,
    TransportError,
    one_line,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    check_url,
    debug_id,
    debug_ref,
    describe_body,
    json_body,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import IMS_SPEC, option_default

DEFAULT_IMS_URL = option_default(IMS_SPEC, "ims_url")
CLIENT_AUTH_METHODS = tuple(IMS_SPEC["ims_client_auth"]["choices"])
TOKEN_PATH = "/ims/token/v3"
AUTHORIZE_PATH = "/ims/authorize/v2"
MAX_DESCRIPTION = 200


class TokenResponse:
    """What IMS issued. ``expires_in`` is seconds (token/v3)."""

    def __init__(self, access_token, token_type, expires_in, refresh_token=None, debug_id=None):
        self.access_token = access_token
        self.token_type = token_type
        self.expires_in = expires_in
        self.refresh_token = refresh_token
        self.debug_id = debug_id


def parse_token_response(response, grant_type):
    """A TokenResponse from an IMS answer, or the ImsError/TransportError that explains it."""
    status = response.status_code
    dbg = debug_id(response)
    try:
        body = json_body(response)
    except ValueError:
        body = None
    if status != 200:
        code = desc = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            code, desc = one_line(body["error"]), one_line(body.get("error_description"))
            # 4xx error codes say what to fix; 429 and 5xx are the service's state, whatever the body says.
            if status != 429 and status < 500:
                raise ims_error(body["error"], body.get("error_description"), status, dbg, grant_type)
        if status == 429:
            raise ImsError(
                "IMS kept answering HTTP 429 (rate limited%s%s) after the retries: wait a few minutes and run "
                "again; keep min_ttl high so cached tokens are reused." % (": " + code if code else "", debug_ref(dbg)),
                status=status, debug_id=dbg)
        if code:
            what = "the error %s%s" % (code, " (%s)" % desc if desc else "")
        else:
            what = describe_body(response)
        raise ImsError(
            "IMS answered HTTP %d with %s%s: IMS or a gateway in front of it is failing; retry later and give "
            "the x-debug-id to Adobe support if it persists." % (status, what, debug_ref(dbg)),
            status=status, debug_id=dbg)
    if not isinstance(body, dict):
        raise TransportError(
            "IMS answered HTTP 200 with %s instead of a token%s: check ims_url points at IMS itself, not a proxy page."
            % (describe_body(response) if body is None else "JSON that is not an object", debug_ref(dbg)))
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token.strip():
        raise TransportError(
            "IMS answered HTTP 200 without an access_token%s: check ims_url and the grant, and give the "
            "x-debug-id to Adobe support if it persists." % debug_ref(dbg))
    expires_in = body.get("expires_in")
    if isinstance(expires_in, str) and expires_in.strip().isdigit():
        expires_in = int(expires_in.strip())
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) \
            or (isinstance(expires_in, float) and math.isnan(expires_in)) or expires_in < 1 or expires_in > 10 ** 9:
        raise TransportError(
            "IMS answered without a usable expires_in (seconds)%s: the token cannot be cached safely; check that "
            "ims_url uses the token/v3 endpoint of IMS." % debug_ref(dbg))
    refresh_token = body.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token.strip():
        refresh_token = None
    token_type = body.get("token_type") if isinstance(body.get("token_type"), str) else "bearer"
    return TokenResponse(access_token.strip(), token_type, int(expires_in), refresh_token, dbg)


def ims_error(error, description, status, dbg, grant_type):
    """Map an IMS error code to its exception and sentence."""
    desc = one_line(description)
    said = "%s%s; HTTP %s%s" % (error, ": " + desc if desc else "", status, debug_ref(dbg))
    if error == "invalid_grant":
        if grant_type == "authorization_code":
            text = ("IMS refused the authorization code (%s): codes are single-use and expire within minutes, and "
                    "the code_verifier must match; start the bootstrap again." % said)
        else:
            text = ("IMS refused the refresh token (%s): it expired (refresh tokens last about 14 days), was already "
                    "used or was revoked; run playbooks/bootstrap_refresh_token.yml to store a new one." % said)
        return InvalidGrantError(text, error=error, status=status, debug_id=dbg, description=desc or None)
    if error == "invalid_client":
        return InvalidClientError(
            "IMS refused the client id or secret (%s): check client_id and client_secret in the credential "
            "against the Adobe Developer Console." % said, error=error, status=status, debug_id=dbg,
            description=desc or None)
    if error == "unauthorized_client":
        text = ("IMS does not allow this client the %s grant (%s): enable it for the credential in the Adobe "
                "Developer Console, or use the grant the credential supports." % (grant_type, said))
    elif error == "invalid_scope":
        text = ("IMS refused the requested scopes (%s): request only scopes the credential has in the Adobe "
                "Developer Console (ACCS needs commerce.accs)." % said)
    elif error == "unsupported_grant_type":
        text = "IMS does not support the %s grant here (%s): check grant_type and ims_url." % (grant_type, said)
    else:
        text = "IMS refused the %s token request (%s): fix what IMS names, then run again." % (grant_type, said)
    return ImsError(text, error=error, status=status, debug_id=dbg, description=desc or None)


class ImsClient:
    """Token requests against one IMS host."""

    def __init__(self, http, ims_url=None, client_auth=None):
        self.http = http
        client_auth = client_auth or option_default(IMS_SPEC, "ims_client_auth")
        self.base_url = check_url(ims_url or DEFAULT_IMS_URL, "ims_url")
        if client_auth not in CLIENT_AUTH_METHODS:
            raise ConfigError("Option ims_client_auth must be basic or post.")
        self.client_auth = client_auth

    def _token_request(self, form, client_id, client_secret):
        form = dict(form)
        headers = {"Accept": "application/json"}
        if client_secret is None:
            form["client_id"] = client_id  # public client (PKCE)
        elif self.client_auth == "basic":
            raw = ("%s:%s" % (client_id, client_secret)).encode("utf-8")
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            form["client_id"] = client_id
            form["client_secret"] = client_secret
        response = self.http.request("POST", self.base_url + TOKEN_PATH, "IMS", data=form, headers=headers)
        return parse_token_response(response, form["grant_type"])

    def _with_secrets(self, form, client_id, client_secrets):
        """Try each client secret in order; the next only after invalid_client (secret rotation)."""
        candidates = list(client_secrets) or [None]
        for index, secret in enumerate(candidates):
            try:
                return self._token_request(form, client_id, secret)
            except InvalidClientError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def authorization_code(self, client_id, client_secrets, code, code_verifier=None, redirect_uri=None):
        form = {"grant_type": "authorization_code", "code": code}
        if code_verifier:
            form["code_verifier"] = code_verifier
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        return self._with_secrets(form, client_id, client_secrets)

    def refresh(self, client_id, client_secrets, refresh_token):
        return self._with_secrets({"grant_type": "refresh_token", "refresh_token": refresh_token}, client_id, client_secrets)

    def client_credentials(self, client_id, client_secrets, scopes):
        return self._with_secrets({"grant_type": "client_credentials", "scope": ",".join(scopes)}, client_id, client_secrets)

    def authorize_url(self, client_id, redirect_uri, scopes, state, code_challenge=None, extra=None):
        params = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": ",".join(scopes),
                  "response_type": "code", "state": state}
        if code_challenge:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        params.update(extra or {})
        return self.base_url + AUTHORIZE_PATH + "?" + urlencode(params)


def pkce_pair():
    """(verifier, S256 challenge) per RFC 7636."""
    verifier = _secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
