"""Each role's home page shows what exists for them, and only that."""

from datetime import date, timedelta

from tests.helpers import count_queries, login


def test_anonymous_visitors_are_sent_to_sign_in(client):
    """The home page asks strangers to sign in first."""
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_agent_home_shows_the_to_do_list_and_onboarding_day(client, make_user, make_team):
    """A new agent sees their 'To do' and which day of 90 they are on."""
    team = make_team(name="Manila Billing")
    agent = make_user(
        role="agent", team=team, name="Nia New", hire_date=date.today() - timedelta(days=9)
    )
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    assert ">To do</h2>" in page
    assert "Day 10 of 90" in page
    assert "Manila Billing" in page
    assert "People" not in page.split("</nav>")[0]  # agents have no people directory


def test_trainer_home_counts_only_their_partner(client, make_user, make_partner):
    """A trainer's home counts and lists their own partner's people, never another's."""
    mine, theirs = make_partner(name="Mine"), make_partner(name="Theirs")
    trainer = make_user(role="trainer", partner=mine)
    recent = date.today() - timedelta(days=3)
    make_user(role="agent", partner=mine, name="Mia Mine", hire_date=recent)
    make_user(role="agent", partner=theirs, name="Tom Theirs", hire_date=recent)
    make_user(role="agent", partner=theirs, name="Tia Theirs", hire_date=recent, password=None)
    login(client, trainer)
    page = client.get("/").get_data(as_text=True)
    assert "Mia Mine" in page
    assert "Tom Theirs" not in page
    assert 'class="number">0</div><div class="label">invitations' in page


def test_staff_home_lists_partners_with_constant_queries(app, client, make_user, make_partner):
    """The PRM's partner overview costs the same number of queries for 2 or 12 partners."""
    prm = make_user(role="prm")
    for _ in range(2):
        make_user(role="agent", partner=make_partner(), hire_date=date.today())
    login(client, prm)
    with count_queries(app) as few:
        assert client.get("/").status_code == 200
    for _ in range(10):
        make_user(role="agent", partner=make_partner(), hire_date=date.today())
    with count_queries(app) as many:
        page = client.get("/").get_data(as_text=True)
    assert many() == few()
    assert page.count('href="/partners/') >= 12


def test_admin_home_shows_recent_activity(client, make_user):
    """The admin's home ends with the latest audit events."""
    login(client, make_user(role="admin", name="Ada"))
    page = client.get("/").get_data(as_text=True)
    assert "Recent activity" in page and "Signed in" in page
