"""Adopt an existing file: ``ResourceOptions(id=...)`` or ``import_`` (config ``sample:mode``)."""

from __future__ import annotations

import pulumi

from tests.dev.sample_provider import SampleFile

cfg = pulumi.Config("sample")
directory = cfg.require("dir")
path = f"{directory}/existing.txt"
props = {"dir": directory, "name": "existing.txt", "content": "ignored"}
if cfg.get("mode") == "import":
    opts = pulumi.ResourceOptions(import_=path)
else:
    opts = pulumi.ResourceOptions(id=path)
existing = SampleFile("existing", props, opts)
pulumi.export("existing_content", existing.content)
