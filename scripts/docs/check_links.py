"""Fails on a broken internal link or anchor anywhere in the built site.

    check_links.py SITE_DIR

Every `href` and `src` of every HTML page that points inside the site (no scheme, not
protocol-relative) must name an existing file, and its `#fragment`, if any, an element `id` (or
an `<a name>`) of that page. Links to other sites are not followed (there is no network here).

Two things rustdoc makes are not checked: the line-range fragments of its source pages
(`src/…rs.html#10-20`, which its script resolves), and the links inside the "Blanket
Implementations" list, whose text rustdoc copies from the docs of foreign traits (tracing's
`WithSubscriber`, …) with links that only resolve in those crates' own documentation.
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FOREIGN = "blanket-implementations-list"
LINE_RANGE = re.compile(r"\d+(-\d+)?")


class Page(HTMLParser):
    """The anchors a page defines and the links it makes (outside rustdoc's blanket impls)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.links: list[str] = []
        self.open: list[str] = []  # the ids (or "") of the elements we are inside
        self.foreign = 0  # how many of those are a blanket-implementations list

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if values.get(key):
                self.anchors.add(values[key] or "")
        if not self.foreign:
            for key in ("href", "src"):
                value = values.get(key)
                if value is not None:
                    self.links.append(value)
        if tag not in VOID:
            element_id = values.get("id") or ""
            self.open.append(element_id)
            self.foreign += element_id == FOREIGN

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.foreign -= self.open.pop() == FOREIGN


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
                source_lines = "/src/" in target.as_posix() and LINE_RANGE.fullmatch(parts.fragment)
                if not source_lines and parts.fragment not in anchors and unquote(parts.fragment) not in anchors:
                    broken.append(f"{where} (no anchor #{parts.fragment})")
    for line in broken[:200]:
        print(f"broken link: {line}")
    print(f"links: {checked - len(broken)} passed, {len(broken)} failed ({len(pages)} pages)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
