# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ims_bootstrap action: the one human step, entirely on the controller.

The state, the PKCE verifier and the code never leave this process (listen step), or leave it only
into a 0600 session file (paste mode, authorize then exchange). Results hold no secret.
"""

from __future__ import annotations

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._bootstrap import (
    Authorization,
    BootstrapError,
    CallbackListener,
    SessionStore,
    check_port,
    new_state,
    redirect_uri_for,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import parse_time
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    VaultKvVersionError,
    VaultPathError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import IMS_TOKEN
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    BOOTSTRAP_RULES,
    BOOTSTRAP_SPEC,
    IMS_TOKEN_SPEC,
    VaultOptions,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import (
    VaultStore,
    normalize_path,
    read_retry_policy,
)
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction

display = Display()

# Options passed on to the engine's code exchange (ims_token) as they are: those both specs have.
_PASSED_ON = tuple(name for name in BOOTSTRAP_SPEC if name in IMS_TOKEN_SPEC)


class ActionModule(EngineAction):
    TRANSFERS_FILES = False
    _requires_connection = False   # always runs on the controller, where the person and the listener are
    _supports_check_mode = False   # a code exchange cannot be previewed: the task is skipped in check mode
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        # Never the module on a target: the person, the browser and the listener are here.
        result = ActionBase.run(self, tmp, task_vars)
        return self._run_in_process(result, BOOTSTRAP_SPEC, BOOTSTRAP_RULES, self._step)

    # -- steps ---------------------------------------------------------------------------------------

    def _step(self, params, hidden, warnings):
        if params["wait_timeout"] < 1:
            raise ConfigError("Option wait_timeout must be at least 1 second.")
        params["vault_path"] = normalize_path(params["vault_path"]) if params.get("vault_path") else None
        if params["step"] == "listen":
            return self._listen(params, hidden, warnings)
        if params["step"] == "authorize":
            return self._authorize(params)
        return self._exchange(params, hidden, warnings)

    def _listen(self, params, hidden, warnings):
        self._preflight(params)
        port = check_port(params["redirect_port"])
        state = new_state()
        with CallbackListener(state, port=port) as listener:
            authorization = Authorization(params["ims_url"], params["client_id"], params["scopes"],
                                          listener.redirect_uri, state=state)
            hidden.update((authorization.state, authorization.code_verifier))
            waiting = "Waiting up to %d s for the browser to come back to %s ..." % (
                params["wait_timeout"], listener.redirect_uri)
            self._show(authorization.url, params, [waiting])
            code = listener.wait(params["wait_timeout"])
        hidden.add(code)
        return self._exchange_code(params, authorization, code, warnings)

    def _authorize(self, params):
        self._preflight(params)
        port = check_port(params["redirect_port"])
        if port == 0:
            raise ConfigError("Option redirect_port 0 (pick a free port) needs the listen step: in paste mode give the "
                              "port of the redirect URI the credential allows.")
        authorization = Authorization(params["ims_url"], params["client_id"], params["scopes"], redirect_uri_for(port))
        store = SessionStore(params.get("session_dir"))
        session = store.save(authorization, params["wait_timeout"], params["vault_path"], params["vault_mount"])
        instructions = (
            "After you sign in, the browser goes to %s?code=... (the page may not load). Copy that whole address "
            "from the address bar and paste it at the next prompt within %d s."
            % (authorization.redirect_uri, params["wait_timeout"]))
        self._show(authorization.url, params, [instructions])
        return {"changed": False, "authorize_url": authorization.url, "redirect_uri": authorization.redirect_uri,
                "session": session, "vault_path": params["vault_path"]}

    def _exchange(self, params, hidden, warnings):
        record = SessionStore(params.get("session_dir")).take(params["session"])
        hidden.update((record["state"], record["code_verifier"]))
        for name in ("client_id", "vault_path", "vault_mount"):
            given = params.get(name)
            if given and record.get(name) and given != record[name]:
                raise ConfigError("Option %s of the exchange differs from the authorize step's: run both steps with the "
                                  "same variables, and start the bootstrap again." % name)
        params["client_id"] = record["client_id"]
        params["vault_path"] = record.get("vault_path") or params.get("vault_path")
        params["vault_mount"] = record.get("vault_mount") or params.get("vault_mount")
        params["ims_url"] = record.get("ims_url") or params.get("ims_url")
        params["scopes"] = record.get("scopes") or params.get("scopes")
        if not params["vault_path"]:
            raise ConfigError("Option vault_path is missing: give the credential's path inside the mount, like accs/prod.")
        authorization = Authorization(params["ims_url"], record["client_id"], params["scopes"], record["redirect_uri"],
                                      state=record["state"], code_verifier=record["code_verifier"])
        code = authorization.code_from(params["redirect_url"])
        hidden.add(code)
        return self._exchange_code(params, authorization, code, warnings)

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _vault(params):
        return VaultStore(VaultOptions.from_params(params.get), read_policy=read_retry_policy(params["retries"]))

    def _show(self, url, params, after):
        where = "'%s/%s'" % (params["vault_mount"], params["vault_path"])
        display.display("Open this URL in a browser and sign in to Adobe as the user the credential %s acts for "
                        "(the refresh token is stored there):" % where)
        # The URL on a line of its own, with nothing around it, so it is easy to copy and to grep.
        display.display(url)
        for line in after:
            display.display(line)

    def _preflight(self, params):
        """Fail before the person signs in when Vault is not usable (no address, bad token, denied, KV v1).

        Without the client_id option, the document's client_id is the client to sign in with."""
        store = self._vault(params)
        document = {}
        try:
            document, _version = store.read(params["vault_path"])
        except VaultKvVersionError:
            raise
        except VaultPathError:
            pass  # no document yet (or a deleted one): the exchange creates it
        if not params.get("client_id"):
            stored = document.get("client_id") if isinstance(document, dict) else None
            if not isinstance(stored, str) or not stored.strip():
                raise ConfigError(
                    "No client_id given and %s holds none: give the IMS client id of the credential (client_id, "
                    "accs_client_id in the playbook)." % store.describe(params["vault_path"]))
            params["client_id"] = stored.strip()

    def _exchange_code(self, params, authorization, code, warnings):
        engine_params = {name: params.get(name) for name in _PASSED_ON}
        engine_params.update(
            grant_type="authorization_code", code=code, code_verifier=authorization.code_verifier,
            redirect_uri=authorization.redirect_uri, vault_path=params["vault_path"],
            client_id=authorization.client_id, scopes=authorization.scopes, min_ttl=None, force_refresh=False,
            refresh_token_max_age=None)
        started = int(time.time())
        out = IMS_TOKEN(engine_params, check_mode=False, warnings=warnings)
        self._check_refresh_token_stored(params, started)
        # Only what is safe to show: never the access token the exchange returned.
        return {"changed": True, "vault_path": out.get("vault_path"), "expires_at": out.get("expires_at")}

    def _check_refresh_token_stored(self, params, started):
        """IMS issues a refresh token only when offline_access was requested and consented: say so if it did not."""
        store = self._vault(params)
        document, _version = store.read(params["vault_path"])
        issued_at = parse_time(document.get("refresh_token_issued_at"))
        if not document.get("refresh_token") or issued_at is None or issued_at < started:
            raise BootstrapError(
                "IMS accepted the code but issued no refresh token, so %s holds only a 24-hour access token: allow "
                "offline_access for the credential in the Adobe Developer Console, approve it at sign-in, and start "
                "the bootstrap again." % store.describe(params["vault_path"]))
