"""The EXAMPLES of every plugin run as written (issue 8), taken from ``ansible-doc --json`` of the
installed collection, against the IMS/ACCS emulator and the session's OpenBao.

Each plugin's examples become the tasks of one play on an inventory host ``prod`` (group
``accs``) whose variables define what the examples reference: ``accs_base_url``,
``accs_vault_path``, ``accs_ims_url``, ``accs_ca_path``, ``accs_client_id`` and
``accs_client_secret``.  The play adds ``module_defaults`` for ``group/adobe_commerce.accs.accs``
with the emulator's IMS URL and CA, as a user's play sets its IMS and CA once (docs/guide.md);
the examples themselves are not changed.  The credentials the examples name literally
(``accs/prod``, ``accs/stage``) are written to those paths of the ``secret/`` KV v2 mount.

Examples that need a fact from an earlier play (the report modules read an audit result) get
that play first: the collection's store_config_audit role, as audit_store_config.yml runs it.

Every plugin ansible-doc lists must have a scenario here or a reason to skip; a new plugin
without either fails ``test_examples_run`` so its examples get run too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.helpers import (
    assert_no_secrets,
    ims_token_requests,
    play,
    read_doc,
    seed_credential,
    write_doc,
)
from tests.support.ansible_runner import REPO_ROOT, hermetic_env, venv_tool

COLLECTION = "adobe_commerce.accs"
HOST = "prod"
PLUGIN_DIRS = {"module": ("modules", ".py"), "lookup": ("lookup", ".py"), "filter": ("filter", ".yml")}

SKIPPED = {
    ("module", "ims_bootstrap"): (
        "its EXAMPLES sign in through a browser (a loopback listener waiting for the redirect) or an interactive "
        "pause for the pasted address; tests/integration/test_bootstrap.py drives the module with the emulator "
        "in the browser's place"
    ),
}

EXPECTED_STORE_CONFIGS = {
    "default": {"locale": "en_US", "base_currency_code": "USD", "timezone": "America/Los_Angeles"},
}


def repo_plugins(kind: str) -> list[str]:
    folder, suffix = PLUGIN_DIRS[kind]
    return sorted(p.stem for p in (REPO_ROOT / "plugins" / folder).glob("*" + suffix) if not p.stem.startswith("_"))


ALL_PLUGINS = [(kind, name) for kind in PLUGIN_DIRS for name in repo_plugins(kind)]


# --------------------------------------------------------------------------- ansible-doc
def _ansible_doc(collection_path: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = hermetic_env({"ANSIBLE_COLLECTIONS_PATH": str(collection_path), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
                        "ANSIBLE_HOME": str(home), "ANSIBLE_NOCOLOR": "1"})
    return subprocess.run(  # noqa: S603
        [venv_tool("ansible-doc"), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def plugin_docs(collection_path, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """``{kind: {name: ansible-doc --json document}}`` of every plugin ansible-doc lists."""
    import json

    home = tmp_path_factory.mktemp("ansible-doc-home")
    docs: dict[str, dict[str, dict]] = {}
    for kind in PLUGIN_DIRS:
        listed = _ansible_doc(collection_path, home, "-t", kind, "-l", COLLECTION, "--json")
        assert listed.returncode == 0, listed.stderr
        names = sorted(json.loads(listed.stdout))
        docs[kind] = {}
        if not names:
            continue
        shown = _ansible_doc(collection_path, home, "-t", kind, "--json", *names)
        assert shown.returncode == 0, f"ansible-doc -t {kind} --json failed: {shown.stderr}"
        for fqcn, document in json.loads(shown.stdout).items():
            docs[kind][fqcn.split(".")[-1]] = document
    return docs


def examples_of(plugin_docs, kind: str, name: str) -> list[dict]:
    import yaml

    text = plugin_docs[kind][name].get("examples") or ""
    tasks = yaml.safe_load(text)
    assert isinstance(tasks, list) and tasks, f"the EXAMPLES of {kind} {name} are not a list of tasks"
    return tasks


def test_ansible_doc_lists_and_renders_every_plugin(plugin_docs, collection_path, tmp_path):
    for kind in PLUGIN_DIRS:
        assert sorted(plugin_docs[kind]) == repo_plugins(kind), f"ansible-doc -t {kind} -l lists other {kind}s"
        for name, document in plugin_docs[kind].items():
            assert document.get("doc", {}).get("short_description"), f"{kind} {name} has no short_description"
            assert (document.get("examples") or "").strip(), f"{kind} {name} has no EXAMPLES"
        # the text rendering users read, every plugin of the kind at once
        names = [f"{COLLECTION}.{name}" for name in plugin_docs[kind]]
        if names:
            shown = _ansible_doc(collection_path, tmp_path / "home", "-t", kind, *names)
            assert shown.returncode == 0, shown.stderr
            assert shown.stdout.count("EXAMPLES:") == len(names), f"ansible-doc -t {kind} shows fewer EXAMPLES"


# --------------------------------------------------------------------------- scenarios
class ExampleRun:
    """What one scenario needs: the seeded credentials, the inventory, and the run."""

    def __init__(self, emulator, openbao, run_playbook):
        self.emulator = emulator
        self.openbao = openbao
        self.run_playbook = run_playbook
        # the examples' accs/prod: a user credential (refresh token) with its own ACCS tenant
        self.prod = seed_credential(emulator, openbao, write=False)
        self.prod.vault_path = "accs/prod"
        self.prod.version = write_doc(openbao, "accs/prod", self.prod.document)
        self.secrets = [self.prod.refresh_token, self.prod.client_secret]

    def host_vars(self, **extra) -> dict:
        values = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "accs_base_url": self.prod.base_url,
            "accs_vault_path": self.prod.vault_path,
            "accs_ims_url": self.emulator.url,
            "accs_ca_path": self.emulator.ca_path,
            "accs_expected_store_configs": EXPECTED_STORE_CONFIGS,
        }
        values.update(extra)
        return values

    def run(self, tasks: list, host_vars: dict, before: list | None = None, label: str = "examples"):
        inventory = {"all": {"children": {"accs": {"hosts": {HOST: host_vars}}}}}
        playbook = list(before or []) + play(tasks, emulator=self.emulator, name=label, hosts="accs")
        result = self.run_playbook(playbook, inventory=inventory, json=True)
        result.assert_rc(0)
        assert result.stats[HOST]["failed"] == 0
        self.cwd = self.run_playbook.work_dir / ("run-%03d" % len(self.run_playbook.results))
        return result

    def ok(self, result, task_name: str) -> dict:
        found = result.task_results(task_name)[HOST]
        assert not found.get("failed") and not found.get("skipped"), f"example task {task_name!r}: {found}"
        return found

    def all_ran(self, result, tasks: list) -> None:
        for task in tasks:
            self.ok(result, task["name"])

    def no_secrets(self, result, *extra) -> None:
        secrets = self.secrets + [value for value in extra if value]
        assert_no_secrets(result.stdout + result.stderr + result.log, secrets)


AUDIT_PLAY = {
    "name": "store configuration audit (the fact the report examples read)",
    "hosts": "accs",
    "gather_facts": False,
    "tasks": [{"name": "audit", "ansible.builtin.import_role": {"name": COLLECTION + ".store_config_audit"}}],
}


def _ims_token(ctx: ExampleRun, tasks: list) -> None:
    s2s = seed_credential(ctx.emulator, None, grant="client_credentials", tenant=False, write=False)
    result = ctx.run(tasks, ctx.host_vars(accs_client_id=s2s.client_id, accs_client_secret=s2s.client_secret))
    ctx.all_ran(result, tasks)
    document, version = read_doc(ctx.openbao, "accs/prod")
    assert version == ctx.prod.version + 1, "the refreshed token was not written back once"
    assert ctx.ok(result, "Use it")["msg"] == "Token valid until %s" % document["access_token_expires_at"]
    # one refresh for prod (the max-age example finds a refresh token issued seconds ago), one s2s token
    assert len(ims_token_requests(ctx.emulator, ctx.prod.client_id, "refresh_token")) == 1
    assert len(ims_token_requests(ctx.emulator, s2s.client_id, "client_credentials")) == 1
    assert ctx.ok(result, "Get a token for the prod environment (cached in Vault, refreshed when needed)")["changed"]
    assert not ctx.ok(result, "Keep refresh tokens far from their 14-day expiry (scheduled job)")["changed"]
    ctx.no_secrets(result, s2s.client_secret, document["access_token"], document["refresh_token"])


def _accs_rest(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    configs = ctx.ok(result, "Read the store configurations")
    assert configs["status"] == 200 and sorted(c["code"] for c in configs["json"]) == ["default", "fr"]
    french = ctx.ok(result, "Read the French store view's configuration only")
    assert [c["code"] for c in french["json"]] == ["fr"]
    products = ctx.ok(result, "All enabled products, every page")
    assert products["pages"] == 1
    assert len(products["json"]["items"]) == products["json"]["total_count"] == 25
    assert len(ims_token_requests(ctx.emulator, ctx.prod.client_id)) == 1, "the token was not reused across tasks"
    document, _version = read_doc(ctx.openbao, "accs/prod")
    ctx.no_secrets(result, document["access_token"], document["refresh_token"])


def _vault_ims_credential(ctx: ExampleRun, tasks: list) -> None:
    stage = seed_credential(ctx.emulator, ctx.openbao, write=False, tenant=False, cache="valid", cache_expires_in=5000)
    write_doc(ctx.openbao, "accs/stage", stage.document)
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    assert ctx.ok(result, "Which IMS client does prod use?")["msg"] == ctx.prod.client_id
    expiries = ctx.ok(result, "Expiry of each environment's cached access token")["msg"]
    assert expiries == ["none cached", stage.document["access_token_expires_at"]]
    ctx.no_secrets(result, stage.client_secret, stage.refresh_token, stage.access_token)


def _store_config_drift(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    audit = ctx.ok(result, "Compute the drift")["ansible_facts"]["audit"]
    assert audit["passed"] is True and audit["drift"] == []
    assert audit["stores"] == 2
    assert audit["rules"]["config_website_known"]["enabled"] is False


def _accs_report_paths(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    msg = ctx.ok(result, "Where the access check report of this host goes")["msg"]
    assert "accs-reports/%s-access-check.junit.xml" % HOST in str(msg)


def _accs_report(ctx: ExampleRun, tasks: list) -> None:
    # the role's own reports go elsewhere, so what accs-reports/ holds is the example's work
    result = ctx.run(tasks, ctx.host_vars(accs_audit_report_dir="role-reports"), before=[AUDIT_PLAY])
    ctx.all_ran(result, tasks)
    markdown = Path(ctx.ok(result, "Show where they are")["msg"])
    markdown = markdown if markdown.is_absolute() else ctx.cwd / markdown
    assert markdown.is_file() and markdown.parent.name == "accs-reports"
    assert ctx.prod.base_url in markdown.read_text(encoding="utf-8")


def _accs_fleet_report(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars(accs_audit_report_dir="role-reports"), before=[AUDIT_PLAY])
    ctx.all_ran(result, tasks)
    fleet = ctx.ok(result, "Write the fleet report")
    page = ctx.cwd / "accs-reports" / "fleet-store-config.html"
    assert Path(fleet["path"]) == page.resolve() and page.is_file()
    assert fleet["total"] == 1 and fleet["passed"] == [HOST]
    assert HOST in page.read_text(encoding="utf-8")
    assert ctx.ok(result, "Summary")["msg"]


def _system_config_requests(ctx: ExampleRun, method: str) -> list:
    return [r for r in ctx.emulator.requests(tenant=ctx.prod.tenant)
            if r.get("endpoint") == "systemConfig" and r["method"] == method]


def _held(ctx: ExampleRun) -> dict:
    return {(i["path"], i["scope"], i.get("scope_code")): i["value"]
            for i in ctx.emulator.system_config(ctx.prod.tenant)}


def _accs_system_config(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    written = ctx.ok(result, "Hold locale, currency and flat-rate shipping")
    assert written["changed"] is True and written["rejected"] == []
    assert len(_system_config_requests(ctx, "PUT")) == 1
    held = _held(ctx)
    assert held[("general/country/allow", "default", None)] == "US,CA,MX"
    assert held[("carriers/flatrate/active", "website", "base")] == "1"
    assert held[("carriers/flatrate/price", "website", "base")] == "5"
    assert ctx.ok(result, "Say what was written")["msg"] == "%d changed, %d already held" % (
        len(written["changes"]), written["unchanged"])
    ctx.no_secrets(result)


def _accs_system_config_info(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    exported = ctx.ok(result, "Read the locale and currency settings of the default scope and the base website")
    assert {"path": "general/locale/code", "value": "en_US", "scope": "default"} in exported["settings"]
    assert all(s["path"].startswith(("general/locale/", "currency/")) for s in exported["settings"])
    applied = ctx.ok(result, "Apply the export to another environment unchanged")
    assert applied["changed"] is False and applied["unchanged"] == len(exported["settings"])
    assert _system_config_requests(ctx, "PUT") == []
    ctx.no_secrets(result)


def _system_config_merge(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    declared = ctx.ok(result, "Declare the settings of this environment")["ansible_facts"]["declared"]
    assert [(d["path"], d["value"]) for d in declared] == [
        ("currency/options/base", "USD"), ("general/locale/code", "en_GB"), ("carriers/flatrate/price", 5)]


def _system_config_result(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    made = ctx.ok(result, "Make the result")["ansible_facts"]["result"]
    assert made["passed"] is True and made["settings"] == 1
    assert ctx.ok(result, "Say it")["msg"] == "The declared setting holds its declared value."
    assert _system_config_requests(ctx, "PUT") == []


def _system_config_scopes(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    assert ctx.ok(result, "Every scope of an environment with one website and two store views")["msg"] == [
        {"scope": "default"}, {"scope": "website", "scope_code": "base"},
        {"scope": "store", "scope_code": "default"}, {"scope": "store", "scope_code": "fr"}]


def _system_config_select(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    promotion = ctx.ok(result, "What a promotion to an environment without the fr store view carries")
    promotion = promotion["ansible_facts"]["promotion"]
    assert promotion["settings"] == [{"path": "general/locale/code", "value": "en_US", "scope": "default"}]
    assert [e["rule"] for e in promotion["excluded"]] == [
        "exclude web/*/base_url", "same as the parent scope", "scope code not in the target"]


def _system_config_common(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    split = ctx.ok(result, "Split what two environments share")["msg"]
    assert split["common"] == [{"path": "general/locale/code", "value": "en_US", "scope": "default"}]
    assert split["hosts"]["prod"] == [{"path": "carriers/flatrate/price", "value": "5", "scope": "default"}]


def _system_config_yaml(ctx: ExampleRun, tasks: list) -> None:
    import yaml

    result = ctx.run(tasks, ctx.host_vars())
    text = ctx.ok(result, "Show the host_vars file of two settings")["msg"]
    assert text.startswith("---\n# Exported from %s\naccs_system_config:\n" % HOST)
    assert 'value: !unsafe "{{unsecure_base_url}}"' in text
    loaded = yaml.safe_load(text.replace("!unsafe ", ""))
    assert loaded["accs_system_config"][0] == {"path": "general/locale/code", "value": "en_US", "scope": "default"}


# --------------------------------------------------------------------------- App Builder wiring (issue 15)
# A new tenant holds no webhook, subscription or provider and no default provider; the supported lists are
# seeded by the emulator. Secrets are 12 characters or more, so that the session's secret scan looks for them.
def _wiring_secret(ctx: ExampleRun, kind: str) -> str:
    return "%s-%s" % (kind, ctx.prod.client_id[-12:])


def _accs_webhook(ctx: ExampleRun, tasks: list) -> None:
    secret = _wiring_secret(ctx, "orderapp-webhook-secret")
    result = ctx.run(tasks, ctx.host_vars(orderapp_webhook_secret=secret))
    ctx.all_ran(result, tasks)
    wiring = ctx.ok(result, "Declare the webhooks")
    assert wiring["changed"] and [c["action"] for c in wiring["changes"]] == ["created"]
    assert wiring["changes"][0]["after"]["headers"][0]["value"] == "(sensitive)"
    hooks = ctx.emulator.extensibility(ctx.prod.tenant)["webhooks"]
    assert [(h["batch_name"], h["hook_name"]) for h in hooks] == [("orderapp_cart", "orderapp_validate_stock")]
    assert hooks[0]["headers"] == [{"name": "Authorization", "value": "Bearer " + secret}]
    ctx.no_secrets(result, secret)


def _accs_event_subscription(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    assert [c["action"] for c in ctx.ok(result, "Declare the event subscriptions")["changes"]] == ["created"]
    held = ctx.emulator.extensibility(ctx.prod.tenant)["subscriptions"]
    assert [(s["name"], s["parent"], s["enabled"]) for s in held] == [
        ("orderapp.observer.sales_order_place_after", "observer.sales_order_place_after", True)]
    assert held[0]["rules"] == [{"field": "grand_total", "operator": "greaterThan", "value": "100"}]


def _accs_event_provider(ctx: ExampleRun, tasks: list) -> None:
    workspace = '{"project": {"id": "4566206088344794932", "secret": "%s"}}' % _wiring_secret(ctx, "workspace")
    # the example reads workspace.json beside the playbook (ansible.builtin.file looks there)
    next_run = ctx.run_playbook.work_dir / ("run-%03d" % (len(ctx.run_playbook.results) + 1))
    next_run.mkdir(parents=True, exist_ok=True)
    (next_run / "workspace.json").write_text(workspace, encoding="utf-8")
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    assert [c["action"] for c in ctx.ok(result, "Declare the event providers")["changes"]] == ["created"]
    held = [p for p in ctx.emulator.extensibility(ctx.prod.tenant)["providers"] if not p["default"]]
    assert [(p["provider_id"], p["instance_id"], p["label"]) for p in held] == [
        ("1902bc50-2d7e-41e8-955b-af4a9667823f", "orderapp-production", "Order app events")]
    assert held[0]["workspace_configuration"] == workspace
    ctx.no_secrets(result, workspace, _wiring_secret(ctx, "workspace"))


def _accs_eventing_config(ctx: ExampleRun, tasks: list) -> None:
    workspace = '{"project": {"id": "4566206088344794932", "secret": "%s"}}' % _wiring_secret(ctx, "acme-workspace")
    result = ctx.run(tasks, ctx.host_vars(acme_workspace_json=workspace))
    ctx.all_ran(result, tasks)
    configured = ctx.ok(result, "Set up eventing once and require a working Adobe I/O Events connection")
    assert configured["changed"] and configured["check"]["status"] == "ok"
    default = next(p for p in ctx.emulator.extensibility(ctx.prod.tenant)["providers"] if p["default"])
    assert default["provider_id"] == "ad667bc6-2d7e-41e8-955b-af4a9667823f"
    ctx.no_secrets(result, workspace, _wiring_secret(ctx, "acme-workspace"))


def _accs_extensibility_info(ctx: ExampleRun, tasks: list) -> None:
    hook = {"webhook_method": "observer.sales_quote_add_item", "webhook_type": "after", "batch_name": "app_quote",
            "hook_name": "app_check", "url": "https://app.example/check"}
    subscription = {"name": "observer.customer_login", "fields": [{"name": "email"}]}
    ctx.emulator.set_extensibility(ctx.prod.tenant, webhooks=[hook], subscriptions=[subscription])
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    wiring = ctx.ok(result, "Export the App Builder wiring of an environment")
    assert [h["hook_name"] for h in wiring["webhooks"]] == ["app_check"]
    assert [s["name"] for s in wiring["subscriptions"]] == ["observer.customer_login"]
    assert wiring["providers"] == []


def _extensibility_merge(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    assert ctx.ok(result, "Show which webhooks this environment gets (identities only)")["msg"] == [
        "orderapp_validate_stock", "orderapp_notify"]


def _extensibility_result(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    assert ctx.ok(result, "Show it")["msg"] == (
        "The App Builder wiring differs from its declaration in 1 item: webhook "
        "observer.checkout_cart_product_add_before before orderapp_cart/orderapp_validate_stock would be created.")
    assert ctx.emulator.extensibility(ctx.prod.tenant)["webhooks"] == []  # check mode wrote nothing


def _accs_credential_health(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    health = ctx.ok(result, "Credential health of the play's environments")
    # the seeded refresh token carries no refresh_token_issued_at: its age is unknown, so warn
    assert health["warn"] == [HOST] and health["critical"] == []
    assert health["vault_reads"] == 1
    assert (ctx.cwd / "accs-reports" / "credential-health.html").is_file()
    assert "accs_credential_state" in (ctx.cwd / "accs-reports" / "accs_credentials.prom").read_text(encoding="utf-8")
    assert ims_token_requests(ctx.emulator, ctx.prod.client_id) == []
    assert ctx.ok(result, "Summary")["msg"][0] == "1 environment: 0 ok, 1 warn, 0 critical."
    ctx.no_secrets(result)


def _accs_audit(ctx: ExampleRun, tasks: list) -> None:
    result = ctx.run(tasks, ctx.host_vars())
    ctx.all_ran(result, tasks)
    from_variables = ctx.ok(result, "Audit the environment as the playbook audit_fleet does, every input from the "
                                    "roles' variables")
    # the host declares expected store values only: the store and the credential are audited
    assert sorted(k for k in ("store_config", "system_config", "extensibility", "credential_health")
                  if k in from_variables) == ["credential_health", "store_config"]
    assert from_variables["store_config"]["passed"] is True and from_variables["failures"] == []
    audit = ctx.ok(result, "Audit the environment (store and system configuration, App Builder wiring, credential) in "
                           "one task")
    assert audit["store_config"]["passed"] is True and audit["system_config"]["passed"] is True
    # the declared webhook is not there: one drift, a failure of the wiring part only
    assert [d["action"] for d in audit["extensibility"]["drift"]] == ["created"]
    assert audit["credential_health"]["state"] in ("ok", "warn")
    assert len(audit["failures"]) == 1 and audit["failures"][0].startswith("prod (%s): " % ctx.prod.base_url)
    assert ctx.ok(result, "Say what was found")["msg"] == audit["failures"]
    assert sorted(p.name for p in (ctx.cwd / "accs-reports").iterdir()) == sorted(
        "prod-%s.%s" % (kind, ext) for kind in ("store-config", "system-config", "extensibility")
        for ext in ("json", "junit.xml", "md"))
    # one token for both tasks (the examples' credential holds none: one refresh, then cached), 4 store GETs each,
    # one system configuration GET, nothing written to ACCS
    assert len(ims_token_requests(ctx.emulator, ctx.prod.client_id)) == 1
    assert len(_system_config_requests(ctx, "GET")) == 1 and _system_config_requests(ctx, "PUT") == []
    records = ctx.emulator.requests(tenant=ctx.prod.tenant)
    assert sorted(r["endpoint"] for r in records if r["endpoint"] in ("storeConfigs", "storeViews", "websites",
                                                                      "storeGroups")) == sorted(
        ["storeConfigs", "storeGroups", "storeViews", "websites"] * 2)
    assert [r["method"] for r in records if r["method"] != "GET"] == []
    ctx.no_secrets(result)


SCENARIOS = {
    ("module", "accs_audit"): _accs_audit,
    ("module", "accs_credential_health"): _accs_credential_health,
    ("module", "accs_webhook"): _accs_webhook,
    ("module", "accs_event_subscription"): _accs_event_subscription,
    ("module", "accs_event_provider"): _accs_event_provider,
    ("module", "accs_eventing_config"): _accs_eventing_config,
    ("module", "accs_extensibility_info"): _accs_extensibility_info,
    ("filter", "extensibility_merge"): _extensibility_merge,
    ("filter", "extensibility_result"): _extensibility_result,
    ("module", "accs_system_config"): _accs_system_config,
    ("module", "accs_system_config_info"): _accs_system_config_info,
    ("filter", "system_config_merge"): _system_config_merge,
    ("filter", "system_config_result"): _system_config_result,
    ("filter", "system_config_scopes"): _system_config_scopes,
    ("filter", "system_config_select"): _system_config_select,
    ("filter", "system_config_common"): _system_config_common,
    ("filter", "system_config_yaml"): _system_config_yaml,
    ("module", "ims_token"): _ims_token,
    ("module", "accs_rest"): _accs_rest,
    ("module", "accs_report"): _accs_report,
    ("module", "accs_fleet_report"): _accs_fleet_report,
    ("lookup", "vault_ims_credential"): _vault_ims_credential,
    ("filter", "store_config_drift"): _store_config_drift,
    ("filter", "accs_report_paths"): _accs_report_paths,
}


@pytest.mark.parametrize(("kind", "name"), ALL_PLUGINS, ids=["%s-%s" % pair for pair in ALL_PLUGINS])
def test_examples_run(kind, name, plugin_docs, emulator, openbao, run_playbook):
    if (kind, name) in SKIPPED:
        pytest.skip(SKIPPED[(kind, name)])
    scenario = SCENARIOS.get((kind, name))
    if scenario is None:
        pytest.fail(f"no scenario runs the EXAMPLES of {kind} {name}: add one to {Path(__file__).name} "
                    "(or a reason to SKIPPED)")
    assert name in plugin_docs[kind], f"ansible-doc does not list {kind} {COLLECTION}.{name}"
    tasks = examples_of(plugin_docs, kind, name)
    scenario(ExampleRun(emulator, openbao, run_playbook), tasks)
