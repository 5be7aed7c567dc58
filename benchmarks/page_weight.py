"""P3: the bytes Chromium transfers for the first review page, the photo aside.

gunicorn serves the app as in production (DEBUG off, static files collected and
compressed by whitenoise). A fresh browser context, its cache empty, logs in through
its request API, then an annotator's tab opens the project's review: Start, its
redirect to the first item, the page and everything it loads. Every finished
request is counted, request and response, headers and encoded body, except the
photos (the item's image and the next item's, prefetched), which are the user's
data rather than the app's. Target: at most 100 KB.

Run with `python -m benchmarks.page_weight`; it exits non-zero when a target is missed.
"""

import re
import sys
from collections import Counter
from urllib.parse import urlsplit

from benchmarks.harness import (
    Figure,
    django_on,
    emulator,
    gunicorn,
    machine,
    report,
    throwaway_database,
)
from benchmarks.load_review import (
    PASSWORD,
    collect_static,
    make_annotators,
    synced_project,
)

CHROMIUM = "/usr/bin/chromium"
DATABASE = "bench_p3_page_weight"
LIMIT_KB = 100
PHOTO = re.compile(r"/projects/[0-9a-f-]{36}/predictions/[0-9a-f-]{36}/\w+$")


def transferred(request) -> int:
    """Bytes of one finished request, both ways, headers and encoded body."""
    sizes = request.sizes()
    return (
        sizes["requestHeadersSize"]
        + sizes["requestBodySize"]
        + sizes["responseHeadersSize"]
        + sizes["responseBodySize"]
    )


def first_review_page(base: str, project_id: str, username: str) -> list:
    """Open the review as a newly logged-in annotator; the requests it finished."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(base_url=base)
        form = context.request.get("/accounts/login/").text()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        context.request.post(
            "/accounts/login/",
            form={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": f"{base}/accounts/login/"},
        )
        page = context.new_page()
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(f"/projects/{project_id}/review/", wait_until="networkidle")
        if "/review/" not in page.url or not page.locator("#review-image").count():
            raise RuntimeError(f"no review page at {page.url}")
        sizes = [(request.url, transferred(request)) for request in finished]
        browser.close()
    return sizes


def main() -> int:
    """Print the figures of P3; return 1 if the target is missed."""
    with throwaway_database(DATABASE) as url:
        django_on(url)
        collect_static()
        (username,) = make_annotators(1)
        with emulator() as server:
            project_id = synced_project(server, 20)
            with gunicorn(
                2,
                CUSTOMVISION_ENDPOINT=server.endpoint,
                CUSTOMVISION_TRAINING_KEY=server.config.training_key,
            ) as base:
                sizes = first_review_page(base, project_id, username)

    counted = Counter()
    photos = 0
    for address, size in sizes:
        path = urlsplit(address).path
        if PHOTO.search(path):
            photos += size
        else:
            counted[path] += size
    print(f"machine: {machine()}")
    for path, size in counted.most_common():
        print(f"{size / 1024:8.1f} KB  {path}")
    print(f"{photos / 1024:8.1f} KB  photos, not counted")
    total = sum(counted.values()) / 1024
    return report([Figure("first review page", total, LIMIT_KB, " KB")])


if __name__ == "__main__":
    sys.exit(main())
