"""IMS's paths on django-oauth-toolkit's own views, plus Django's login form.

The views are django-oauth-toolkit's, unchanged; only where they are mounted is IMS's.  DOT's
own URLs stay mounted too (under ``/o/``) because its views reverse their names.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views as oauth_views

urlpatterns = [
    path("ims/authorize/v2", oauth_views.AuthorizationView.as_view(), name="ims-authorize"),
    path("ims/token/v3", oauth_views.TokenView.as_view(), name="ims-token"),
    path("ims/revoke", oauth_views.RevokeTokenView.as_view(), name="ims-revoke"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
