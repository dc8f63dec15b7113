"""Fails on a broken internal link or anchor anywhere in the built site.

    check_links.py SITE_DIR

Every `href` and `src` of every HTML page that points inside the site (no scheme, not
protocol-relative) must name an existing file, and its `#fragment`, if any, an element `id` (or
an `<a name>`) of that page. Links to other sites are not followed (there is no network here).
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    """The anchors a page defines and the links it makes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if values.get(key):
                self.anchors.add(values[key] or "")
        for key in ("href", "src"):
            value = values.get(key)
            if value is not None and not (tag == "a" and key == "src"):
                self.links.append(value)


def internal(link: str) -> bool:
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc and not link.startswith("//")


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    pages: dict[Path, Page] = {}
    for path in sorted(root.rglob("*.html")):
        page = Page()
        page.feed(path.read_text(errors="replace"))
        pages[path] = page
    broken: list[str] = []
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            if not internal(link) or link in ("", "#"):
                continue
            checked += 1
            parts = urlsplit(link)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(root)}: {link}"
            if not target.is_relative_to(root):
                broken.append(f"{where} (outside the site)")
            elif not target.is_file():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else set()
                if unquote(parts.fragment) not in anchors:
                    broken.append(f"{where} (no anchor #{parts.fragment})")
    for line in broken[:200]:
        print(f"broken link: {line}")
    print(f"links: {checked - len(broken)} passed, {len(broken)} failed ({len(pages)} pages)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
