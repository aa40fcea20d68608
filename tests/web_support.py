"""Helpers and fixtures shared by the web tests (pages, API, browser): import what you use."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

# A repository whose code and docs are full of markup: every page must show it as text, never run it.
HOSTILE_SOURCE = textwrap.dedent('''
    def render_banner(title):
        """Wrap <script>alert("doc")</script> in a <b>banner</b> & escape nothing."""
        markup = "<img src=x onerror=alert('code')>" + title
        return "<div class='banner'>" + markup + "</div>"


    def inject_widget(page):
        """Put a widget on the page if 1 < 2 & "quotes" are kept; <iframe src=javascript:alert(1)"""
        widget = "<script>document.title = 'pwned'</script>"
        return page.replace("</body>", widget + "</body>")
''')


@pytest.fixture
def hostile_repo(tmp_path) -> Path:
    root = tmp_path / "hostile"
    (root / "hostile").mkdir(parents=True)
    (root / "hostile" / "markup.py").write_text(HOSTILE_SOURCE)
    return root


@pytest.fixture
def indexed_hostile(indexed_sample, hostile_repo):
    """example/hostile indexed next to example/sample."""
    from codesearch.repositories.indexing import index_repository

    return index_repository("example/hostile", hostile_repo, commit="feedbee")


def get_json(client, path: str, **params):
    response = client.get(f"/api/v1/{path}", params)
    return response.status_code, response.json()


def post_json(client, path: str, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = client.post(f"/api/v1/{path}", data=data, content_type="application/json", **headers)
    return response.status_code, response.json()


@pytest.fixture
def indexer(db):
    """A user with the permission to request indexing (not staff)."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("indexer", password="a-long-password-for-tests")
    user.user_permissions.add(Permission.objects.get(codename="request_indexing"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def indexer_client(client, indexer):
    client.force_login(indexer)
    return client


@pytest.fixture
def token(indexer) -> str:
    """An API token of `indexer`, as its holder sends it."""
    from codesearch.repositories.models import ApiToken

    record = ApiToken(user=indexer, name="tests")
    secret = record.set_new_token()
    record.save()
    return secret


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
