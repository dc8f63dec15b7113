"""Renders the Markdown pages of the documentation site into one shared layout.

    site.py REPO OUT

Pages: README.md (the front page), docs/*.md (the guides), CHANGELOG.md. A relative link from
a page to a repository file or folder that is not a page (an example, bench/README.md) becomes
a page of its own under source/: Markdown rendered, other files shown as text, folders as a
list of their files. A link to `reference/…` (from docs/: `../reference/…`) is a page of the
generated references. A relative link to a path that does not exist fails the build. The API
references (built beside, by build.sh) are linked from the navigation.
"""

import html
import os
import re
import struct
import sys
import zlib
from pathlib import Path

import markdown
from pygments.formatters import HtmlFormatter

GUIDES = [("python", "Python"), ("node", "Node.js"), ("c", "C and C++"), ("rust", "Rust"), ("cli", "CLI"), ("cassettes", "Cassettes")]
REFERENCES = [
    ("reference/python/mixerlead.html", "Python"),
    ("reference/node/index.html", "Node.js"),
    ("reference/c/mixerlead_8h.html", "C"),
    ("reference/c/mixerlead_8hpp.html", "C++"),
    ("reference/rust/mixerlead/index.html", "Rust"),
]
FENCE = re.compile(r"^(\s*)(```+|~~~+)([^\s`]+)[^\n`]*$", re.M)
LINK = re.compile(r'(href|src)="([^"#:?]+)(#[^"]*)?"')


class Site:
    """The pages to write, keyed by their repository path, and where each goes in the site."""

    def __init__(self, repo: Path, out: Path) -> None:
        self.repo = repo
        self.out = out
        self.targets: dict[str, str] = {"README.md": "index.html", "CHANGELOG.md": "changelog.html"}
        for name, _ in GUIDES:
            self.targets[f"docs/{name}.md"] = f"guides/{name}.html"
        self.queue = list(self.targets)
        self.errors: list[str] = []

    def target_of(self, repo_path: str) -> str:
        """The site path of a repository path, queueing a source page for it if it is new."""
        if repo_path not in self.targets:
            is_dir = (self.repo / repo_path).is_dir()
            self.targets[repo_path] = f"source/{repo_path}/index.html" if is_dir else f"source/{repo_path}.html"
            self.queue.append(repo_path)
        return self.targets[repo_path]

    def build(self) -> None:
        while self.queue:
            repo_path = self.queue.pop(0)
            self.write(repo_path)
        css = (Path(__file__).parent / "site.css").read_text() + HtmlFormatter().get_style_defs(".codehilite")
        (self.out / "assets").mkdir(parents=True, exist_ok=True)
        (self.out / "assets" / "site.css").write_text(css)
        # The icon, also at the root, where browsers look for it on pages that name none.
        (self.out / "assets" / "favicon.png").write_bytes(icon())
        (self.out / "favicon.ico").write_bytes(icon())

    def write(self, repo_path: str) -> None:
        source = self.repo / repo_path
        page = self.targets[repo_path]
        if source.is_dir():
            entries = sorted(p for p in source.iterdir() if not p.name.startswith("."))
            items = "".join(
                f'<li><a href="{html.escape(p.name)}{"/index.html" if p.is_dir() else ".html"}">{html.escape(p.name)}</a></li>'
                for p in entries
            )
            for p in entries:
                self.target_of(f"{repo_path}/{p.name}")
            body, title = f"<h1>{html.escape(repo_path)}/</h1><ul>{items}</ul>", repo_path
        elif source.suffix == ".md":
            body, title = self.markdown(source.read_text(), repo_path)
        else:
            text = source.read_text(errors="replace")
            body = f"<h1>{html.escape(repo_path)}</h1><pre><code>{html.escape(text)}</code></pre>"
            title = repo_path
        dest = self.out / page
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(layout(title, body, page))

    def markdown(self, text: str, repo_path: str) -> tuple[str, str]:
        """Renders a Markdown file; relative links are resolved against its folder."""
        # Only the fence's first word is the language: later words are markers for the example
        # runner (tests/docs), not for the reader.
        text = FENCE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}", text)
        md = markdown.Markdown(extensions=["fenced_code", "tables", "toc", "codehilite"],
                               extension_configs={"codehilite": {"guess_lang": False}})
        body = md.convert(text)
        title = next((t["name"] for t in md.toc_tokens), repo_path)  # type: ignore[attr-defined]
        here = self.targets[repo_path]
        base = os.path.dirname(repo_path)

        def relink(m: re.Match[str]) -> str:
            attr, target, fragment = m.group(1), m.group(2), m.group(3) or ""
            resolved = os.path.normpath(os.path.join(base, target)).rstrip("/")
            if resolved.startswith("reference/"):
                # A page of the generated references (checked by check_links.py).
                return f'{attr}="{os.path.relpath(resolved, os.path.dirname(here) or ".")}{fragment}"'
            if resolved.startswith("..") or not (self.repo / resolved).exists():
                self.errors.append(f"{repo_path}: link to {target}: no such file in the repository")
                return m.group(0)
            link = os.path.relpath(self.target_of(resolved), os.path.dirname(here) or ".")
            return f'{attr}="{link}{fragment}"'

        return LINK.sub(relink, body), html.unescape(title)


def icon(size: int = 16, rgb: tuple[int, int, int] = (31, 95, 191)) -> bytes:
    """A PNG of one colour: the site's icon."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def layout(title: str, body: str, page: str) -> str:
    """The shared page: a navigation column (front page, guides, references) and the content."""
    up = os.path.relpath(".", os.path.dirname(page) or ".")

    def link(path: str, label: str) -> str:
        current = ' aria-current="page"' if path == page else ""
        return f'<li><a href="{up}/{path}"{current}>{label}</a></li>'

    nav = (
        f'<p class="brand"><a href="{up}/index.html">mixerlead</a></p>'
        + "<h2>Guides</h2><ul>" + "".join(link(f"guides/{n}.html", label) for n, label in GUIDES) + "</ul>"
        + "<h2>API reference</h2><ul>" + "".join(link(p, label) for p, label in REFERENCES) + "</ul>"
        + "<h2>Project</h2><ul>" + link("changelog.html", "Changelog") + "</ul>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — mixerlead</title>
<link rel="stylesheet" href="{up}/assets/site.css">
<link rel="icon" type="image/png" href="{up}/assets/favicon.png">
</head>
<body>
<nav>{nav}</nav>
<main>
{body}
</main>
</body>
</html>
"""


def main() -> int:
    repo, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    site = Site(repo, out)
    site.build()
    for error in site.errors:
        print(f"site: {error}", file=sys.stderr)
    print(f"site: {len(site.targets)} pages")
    return 1 if site.errors else 0


if __name__ == "__main__":
    sys.exit(main())
