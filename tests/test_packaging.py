"""What a package index shows and what a user installs.

The README is the long description on a package index, where a relative link
leads nowhere: every link must be absolute, and those into this repository
must name a file or folder that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPOSITORY_URL = "https://github.com/pulumi-vpsbackup/pulumi-vpsbackup"

# [text](target "title"), ![alt](target), [label]: target, href="..", src=".."
_LINK_PATTERNS = (
    re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE),
    re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE),
)


def links(markdown: str) -> list[str]:
    """Every link target of `markdown`, outside fenced code blocks."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    return [m.group(1) for pattern in _LINK_PATTERNS for m in pattern.finditer(prose)]


def test_the_link_finder_sees_every_kind_of_relative_link() -> None:
    sample = (
        '[a](examples/quickstart) ![b](img.png) [c](ARCHITECTURE.md "t")\n'
        '[ref]: docs/x.md\n<a href="LICENSE">l</a>\n```\n[code](not/a/link)\n```\n'
    )
    assert sorted(links(sample)) == sorted(
        ["examples/quickstart", "img.png", "ARCHITECTURE.md", "docs/x.md", "LICENSE"]
    )


def test_the_readme_has_no_relative_links() -> None:
    found = links((REPO / "README.md").read_text(encoding="utf-8"))
    assert found, "no links found: the pattern is broken"
    relative = [t for t in found if not re.match(r"(https?|mailto):", t)]
    assert relative == [], f"relative links do not work on a package index: {relative}"


def test_the_readmes_links_into_the_repository_name_files_that_exist() -> None:
    found = links((REPO / "README.md").read_text(encoding="utf-8"))
    ours = [t for t in found if t.startswith(REPOSITORY_URL + "/")]
    assert any("examples/quickstart" in t for t in ours)
    assert any(t.endswith("/ARCHITECTURE.md") for t in ours)
    for target in ours:
        rest = target[len(REPOSITORY_URL) + 1 :]
        if rest in ("issues", "releases") or rest.startswith(("compare/", "releases/")):
            continue
        match = re.fullmatch(r"(?:blob|tree)/main/([^#?]+)", rest)
        assert match, f"{target}: expected {REPOSITORY_URL}/blob/main/<path>"
        assert (REPO / match.group(1)).exists(), f"{target}: no such path in the repository"


def test_license_is_the_apache_2_text_and_the_changelog_has_an_unreleased_section() -> None:
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert not (REPO / "NOTICE").exists()
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and "## [0.1.0]" in changelog
