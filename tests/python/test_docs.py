"""The README documents what the package really does."""

from __future__ import annotations

from pathlib import Path

import bouncekit


def test_readme_taxonomy_lists_every_category_with_its_mappings(repo: Path) -> None:
    text = (repo / "README.md").read_text()
    for _, c in bouncekit.categories().iterrows():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{c['name']}` |")), None)
        assert row is not None, f"README taxonomy lacks {c['name']}"
        cells = [x.strip() for x in row.strip("|").split("|")]
        assert cells[1] == c["class"] and cells[2] == c["blame"] and cells[4] == c["sisimai_reason"], row


def test_readme_profiles_exist(repo: Path) -> None:
    text = (repo / "README.md").read_text()
    for name, _ in bouncekit.profiles():
        assert f"| `{name}` |" in text, name


def test_readme_two_commands(repo: Path) -> None:
    text = (repo / "README.md").read_text()
    assert "bash .ci/sample.sh" in text and "bash .ci/test.sh" in text
    assert (repo / ".ci" / "run").read_text().count("test.sh") == 1
