"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser) against
pytest-django's live server. Without /usr/bin/chromium they are skipped, except in CI, where a
missing browser is a failure (`.ci/run` installs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("VENTANILLA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(os.environ.get("VENTANILLA_TEST_ARTIFACTS", "test-artifacts"))


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        return  # the browser fixture fails loudly instead
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is required for browser tests in CI and was not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread; the ORM calls that
    # tests and fixtures make there are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, request):
    """A phone-sized page with the platform's real CSP; console CSP violations fail the test."""
    context = browser.new_context(viewport=PHONE, locale="es-MX", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text)
        if msg.type == "error" and "Content Security Policy" in msg.text
        else None,
    )
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not violations, f"CSP violations: {violations}"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def axe():
    from axe_playwright_python.sync_playwright import Axe

    runner = Axe()

    def check(page) -> None:
        results = runner.run(page)
        assert results.violations_count == 0, results.generate_report()

    return check


def transferred_bytes(page, url: str) -> int:
    """Bytes on the wire to load `url` in a fresh page: document plus every subresource."""
    sizes: list[int] = []

    def on_finished(req):
        sizes_info = req.sizes()
        sizes.append(sizes_info["responseBodySize"] + sizes_info["responseHeadersSize"])

    page.on("requestfinished", on_finished)
    page.goto(url, wait_until="networkidle")
    page.remove_listener("requestfinished", on_finished)
    return sum(sizes)
