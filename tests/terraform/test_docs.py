"""The Registry-shaped docs (`docs/terraform/`, pulumi_vpsbackup/terraform/docs.py) say
what the schema says: every attribute, which ones replace, which are sensitive, how
to import; and their import ids are ids the provider accepts."""

from __future__ import annotations

import re

import pytest

from pulumi_vpsbackup._version import __version__
from pulumi_vpsbackup.provider.restore.provider import parse_restore_id
from pulumi_vpsbackup.terraform.docs import registry_docs
from pulumi_vpsbackup.terraform.schema import DATA_SOURCES, PROVIDER, RESOURCES, Kind

from .harness import REPO, SOURCE

EXAMPLES = REPO / "examples" / "terraform"
PAGES = registry_docs(EXAMPLES)
KINDS = [
    *(pytest.param(f"resources/{n[10:]}.md", k, id=n) for n, k in RESOURCES.items()),
    *(pytest.param(f"data-sources/{n[10:]}.md", k, id=n) for n, k in DATA_SOURCES.items()),
    pytest.param("index.md", PROVIDER, id="provider"),
]


def line_of(page: str, name: str) -> str:
    found = re.findall(rf"^\* `{name}` - .*$", page, re.MULTILINE)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_every_attribute_is_documented_once_with_its_rules(path: str, kind: Kind) -> None:
    page = PAGES[path]
    assert page.startswith('---\npage_title: "')
    assert '\nsubcategory: ""\ndescription: |-\n  ' in page
    for attr in kind.attrs:
        line = line_of(page, attr.name)
        assert attr.description in line
        assert ("Changing this forces a new resource." in line) == attr.replaces
        assert ("Sensitive" in line) == attr.sensitive
        if attr.required:
            assert line.startswith(f"* `{attr.name}` - (Required, ")


def test_the_provider_page_says_the_token_is_sensitive_and_where_it_falls_back() -> None:
    page = PAGES["index.md"]
    token = line_of(page, "api_token")
    assert "(Optional, String, Sensitive)" in token and "`VPS_API_TOKEN`" in token
    assert "`VPS_API_URL`" in line_of(page, "api_url")
    assert "Terraform 1.0 and later and OpenTofu 1.6 and later" in page


def test_the_mirror_lines_install_this_version_where_the_configurations_look() -> None:
    page = PAGES["index.md"]
    into = f"~/.terraform.d/plugins/registry.opentofu.org/{SOURCE}"
    assert f"mkdir -p {into}\n" in page
    assert f"cp dist/terraform-provider-vpsbackup_{__version__}_linux_amd64.zip {into}/\n" in page


@pytest.mark.parametrize(
    ("path", "snippet"),
    [
        ("index.md", "provider/provider.tf"),
        *((f"resources/{n[10:]}.md", f"resources/{n}/resource.tf") for n in RESOURCES),
        *((f"data-sources/{n[10:]}.md", f"data-sources/{n}/data-source.tf") for n in DATA_SOURCES),
    ],
)
def test_each_page_embeds_its_example(path: str, snippet: str) -> None:
    hcl = (EXAMPLES / snippet).read_text(encoding="utf-8").rstrip("\n")
    assert f"## Example Usage\n\n```terraform\n{hcl}\n```\n" in PAGES[path]


def test_the_import_sections_give_ids_the_provider_accepts() -> None:
    backup = PAGES["resources/backup.md"]
    assert "tofu import vpsbackup_backup.NAME BACKUP_ID" in backup
    assert 'import {\n  to = vpsbackup_backup.before_release\n  id = "499"\n}' in backup
    restore = PAGES["resources/restore.md"]
    assert "tofu import vpsbackup_restore.NAME SERVER_ID:BACKUP_ID:TIME" in restore
    restore_id = re.search(r'to = vpsbackup_restore\.rollback\n  id = "([^"]+)"', restore)
    assert restore_id
    assert parse_restore_id(restore_id.group(1))["backup_id"] == 499
    for name in ("backup_rotation", "backup_fleet"):
        section = PAGES[f"resources/{name}.md"].split("## Import\n", 1)[1]
        assert "cannot be imported" in section and "import {" not in section
