"""Django settings of the test OAuth server: django-oauth-toolkit configured like Adobe IMS.

The SQLite file comes from ``OAUTH_SERVER_DB`` (set by ``python -m tests.oauth_server``).
What "like IMS" means here follows shared/reference/ims-accs-facts.md:

* lifetimes: access token 86399 s (``expires_in`` in seconds), refresh token 14 days,
  authorization code 300 s;
* PKCE required (every client: IMS requires it of public clients, and the collection always sends it);
* refresh tokens rotate on every use; the old one dies at once (no grace period) and a reuse of
  a rotated-out refresh token revokes its whole family (reuse protection, RFC 9700 4.14.2);
* the IMS user-flow and server-to-server scopes.
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("OAUTH_SERVER_SECRET_KEY", "test-only-not-secret-" + "x" * 40)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.oauth_server.urls"
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [str(HERE / "templates")],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth"]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("OAUTH_SERVER_DB", str(HERE / "oauth-server.sqlite3")),
    # threads of one server write at once: wait for the lock instead of failing
    "OPTIONS": {"timeout": 30},
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# client secrets are hashed with these too: a fast hasher keeps token requests quick (test server only)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": True,
           "handlers": {"null": {"class": "logging.NullHandler"}},
           "root": {"handlers": ["null"], "level": "CRITICAL"}}

IMS_USER_SCOPES = ["openid", "AdobeID", "offline_access", "email", "profile", "additional_info.roles",
                   "additional_info.projectedProductContext", "commerce.accs"]

OAUTH2_PROVIDER = {
    "SCOPES": {scope: "IMS scope " + scope for scope in IMS_USER_SCOPES},
    "DEFAULT_SCOPES": ["openid", "AdobeID"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 86399,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 300,
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "REQUEST_APPROVAL_PROMPT": "force",
}
