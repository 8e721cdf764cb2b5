"""The app starts, signs someone in and shows their home page."""

from tests.helpers import login


def test_agent_signs_in_and_sees_home(client, make_user):
    """An agent with a password reaches their home page after signing in."""
    agent = make_user(role="agent", name="Ana Agent")
    response = login(client, agent)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Ana Agent" in page
