from .conftest import transferred_bytes


def test_home_page_renders_under_csp_and_installs_service_worker(page, live_server):
    page.goto("/")
    assert page.locator("h1").inner_text() == "¿Qué trámite o servicio quieres realizar hoy?"
    assert page.evaluate("document.documentElement.lang") == "es-MX"
    # The service worker registers from the external app.js (no inline script).
    page.wait_for_function("navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") >= 1


def test_home_transfers_under_100_kb(page, live_server):
    assert transferred_bytes(page, "/") < 100 * 1024


def test_axe_check_can_fail(page, live_server, axe):
    """The accessibility check is real: a page with an unlabeled image and no language fails it."""
    page.goto("/")
    page.set_content("<html><body><img src='/static/core/city-logo.svg'><input type='text'></body></html>")
    try:
        axe(page)
    except AssertionError as exc:
        assert "image-alt" in str(exc) or "label" in str(exc)
    else:
        raise AssertionError("axe-core reported no violation on an inaccessible page")
