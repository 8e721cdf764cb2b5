"""Steps every journey takes the way a person would: through the pages, by label and role."""

from playwright.sync_api import Page, expect

from portal.demo.services import DEMO_PASSWORD


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in on the sign-in page and wait until the portal shows the person's menu."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("search")).to_be_visible()


def open_menu_item(page: Page, menu: str, item: str) -> None:
    """Open one of the main navigation's menus and follow one of its links."""
    navigation = page.get_by_role("navigation", name="Main")
    dropdown = navigation.get_by_role("listitem").filter(
        has=page.get_by_role("button", name=menu, exact=True)
    )
    dropdown.get_by_role("button", name=menu, exact=True).click()
    dropdown.get_by_role("link", name=item, exact=True).click()
