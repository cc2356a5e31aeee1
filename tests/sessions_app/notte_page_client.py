"""notte-sdk's `session.page` (Playwright over the session's cdp_url), as a user's script runs it.

python -m tests.sessions_app.notte_page_client <api url> <api key> <url to open>
prints one JSON line: the session id, the page's title and URL as Playwright sees them, and the URL
the API's observe reports for the same session.
"""

import json
import os
import sys

os.environ.setdefault("DISABLE_TELEMETRY", "true")


def main() -> None:
    from notte_sdk import NotteClient

    api_url, key, url = sys.argv[1:4]
    client = NotteClient(api_key=key, server_url=api_url)
    with client.Session(headless=True) as session:
        page = session.page
        page.goto(url)
        seen = {
            "session_id": session.session_id,
            "title": page.title(),
            "url": page.url,
            "contexts": len(page.context.browser.contexts),
        }
        seen["observed_url"] = session.observe().metadata.url
    sys.stdout.write(json.dumps(seen) + "\n")


if __name__ == "__main__":
    main()
