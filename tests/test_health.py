"""`/healthz` (the process answers) and `/readyz` (its database and cache answer)."""

from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from parley.core import views


def test_healthz_answers_without_the_database() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_says_ready_when_database_and_cache_answer() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "cache": "ok"}}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_says_503_and_why_when_the_database_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def cursor(self) -> Any:
            raise DatabaseError("connection refused")

    monkeypatch.setattr(views, "connection", Broken())
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing: DatabaseError", "cache": "ok"}
