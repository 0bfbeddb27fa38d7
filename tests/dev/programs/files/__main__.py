"""A sample program for the engine harness, steered by stack config (namespace ``sample``).

a: a file whose name/content/replace mode come from config.
b: a file whose content depends on a's ``path`` output (unknown while a is only planned).
group/c: a component with one child file that depends_on b.
"""

from __future__ import annotations

import pulumi

from tests.dev.sample_provider import SampleFile

cfg = pulumi.Config("sample")
directory = cfg.require("dir")
flag = cfg.get_bool

a_opts = pulumi.ResourceOptions(delete_before_replace=True) if flag("dbr_option") else None
a = SampleFile(
    "a",
    {
        "dir": directory,
        "name": cfg.get("a_name") or "a.txt",
        "content": cfg.get("content") or "v1",
        "delete_before_replace": bool(flag("dbr_provider")),
    },
    a_opts,
)
pulumi.export("a_path", a.path)
pulumi.export("a_id", a.id)
pulumi.export("a_content", a.content)
pulumi.export("token", pulumi.Output.secret("shh"))

if flag("with_extras") is not False:
    b = SampleFile(
        "b",
        {
            "dir": directory,
            "name": "b.txt",
            "content": a.path.apply(lambda p: f"after {p}"),
            "fail_create": bool(flag("fail_b")),
            "fail_update": bool(flag("fail_b")),
        },
    )
    group = pulumi.ComponentResource("test:component:Group", "group")
    c = SampleFile(
        "c",
        {"dir": directory, "name": "c.txt", "content": "c"},
        pulumi.ResourceOptions(parent=group, depends_on=[b]),
    )
    group.register_outputs({"c_path": c.path})
    pulumi.export("b_content", b.content)
