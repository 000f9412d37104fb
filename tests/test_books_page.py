"""The Books panel in real Chromium against a real server with Piper: import a Markdown file, rename and leave
out chapters, render with the progress bar moving to the end, download the M4B, and speak in the page while the
render runs (Stop all leaves the render alone). The panel passes axe-core's checks."""

from __future__ import annotations

import io

import pytest

from tests.books import MARKDOWN
from tests.chromium import new_page
from tests.conftest import start_server
from tests.test_page_access import serious

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")


@pytest.fixture
def vox(tmp_path):
    s = start_server(tmp_path)
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    yield s
    s.stop()


def test_import_edit_render_and_download_a_book_while_speaking(browser, vox, tmp_path):
    import av

    page = new_page(browser, vox.url + "/")
    try:
        page.evaluate("() => vox.ready")
        page.click("#books-toggle")
        assert page.locator("#books-panel").is_visible() and page.locator("#voices-panel").is_hidden()
        (tmp_path / "notes.md").write_text(MARKDOWN)
        page.set_input_files("#book-file", str(tmp_path / "notes.md"))
        page.click("#book-upload-btn")
        page.wait_for_function("() => vox.books.book && vox.books.book.chapters.length === 4")
        assert page.locator("#book-chapters li").count() == 4
        page.get_by_label("Title of chapter 2").fill("High Summer")
        page.get_by_label("Title of chapter 2").press("Enter")  # a change event renames it
        page.wait_for_function("() => vox.books.book.chapters[1].title === 'High Summer'")
        page.get_by_label("Include Plates").uncheck()
        page.wait_for_function("() => vox.books.book.chapters[2].excluded")
        page.click("#book-render")
        page.wait_for_function("() => vox.books.progress && vox.books.progress.state === 'rendering'")
        page.evaluate("() => vox.speak('Still here while the book renders.')")  # conversation goes first
        page.evaluate("() => vox.stopAll()")
        assert page.evaluate("() => vox.books.progress.state") in ("rendering", "exporting", "done")
        page.wait_for_function("() => vox.books.progress.state === 'done'", timeout=600_000)
        assert page.locator("#book-progress").evaluate("e => e.value") == 1
        assert "3 of 3 chapters" in page.locator("#book-progress-text").inner_text()
        link = page.locator("#book-download")
        link.wait_for(state="visible")  # the book is shown again once its render is done
        assert "M4B" in link.inner_text()
        with page.expect_download() as info:
            link.click()
        data = open(info.value.path(), "rb").read()
        with av.open(io.BytesIO(data)) as c:
            assert [ch["metadata"]["title"] for ch in c.chapters()] == ["Spring", "High Summer", "Autumn"]
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(500)  # the colours' transitions end
            assert serious(page) == [], scheme
    finally:
        page.context.close()
