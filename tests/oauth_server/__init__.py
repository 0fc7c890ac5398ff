"""A real OAuth 2 server, django-oauth-toolkit, configured like Adobe IMS (issue 13).

See README.md beside this file; started by the ``oauth_server`` fixture (tests/conftest.py).
"""
