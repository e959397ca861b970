"""The API is a contract: any change to it shows up as a reviewed diff of docs/openapi.json."""

import json
from pathlib import Path

import pytest

from parley.config.api import api

SNAPSHOT = Path(__file__).parent.parent / "docs" / "openapi.json"


def test_schema_matches_the_committed_snapshot():
    current = json.loads(json.dumps(api.get_openapi_schema(), sort_keys=True))
    committed = json.loads(SNAPSHOT.read_text())
    assert current == committed, "API changed: run scripts/update-openapi and review the diff"


@pytest.mark.django_db
def test_schema_is_served_under_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/threads",
        "/api/v1/comments",
        "/api/v1/counts",
        "/api/v1/comments/{comment_id}/vote",
        "/api/v1/comments/{comment_id}/report",
    ):
        assert path in paths
