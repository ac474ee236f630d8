"""The shared visibility check: every principal against one record's page or endpoint.

    assert_visibility(world, client_for, "saved_view", record)

requests the URL as each principal of the `world` fixture and asserts the expected
status. By default the record is owned by `world.rep_a` (team 1) with sharing "team":
those who may see it get `allowed` (200), everyone else gets 404, never 403, so ids do
not leak; the anonymous visitor is sent to sign in (302) or, for the API, gets 401/403.
"""

DEFAULT_SEES = {"rep_a", "rep_b", "manager1", "admin"}


def expected_outcomes(world, *, sees=DEFAULT_SEES, allowed=200, api=False) -> dict[str, set[int]]:
    out = {}
    for name in world.principals():
        if name == "anonymous":
            out[name] = {401, 403} if api else {302}
        else:
            out[name] = {allowed} if name in sees else {404}
    return out


def assert_visibility(world, client_for, url: str, *, sees=DEFAULT_SEES, allowed=200, method="get",
                      data=None, api=False) -> dict[str, int]:
    """Request `url` as every principal and assert each one's outcome; returns the statuses seen."""
    expected = expected_outcomes(world, sees=sees, allowed=allowed, api=api)
    seen, wrong = {}, []
    for name, user in world.principals().items():
        client = client_for(user)
        kwargs = {"content_type": "application/json"} if api and data is not None else {}
        response = getattr(client, method)(url, data, **kwargs) if data is not None else getattr(client, method)(url)
        seen[name] = response.status_code
        if response.status_code not in expected[name]:
            wrong.append(f"{name}: got {response.status_code}, expected {sorted(expected[name])}")
    assert not wrong, f"{method.upper()} {url}:\n" + "\n".join(wrong)
    return seen
