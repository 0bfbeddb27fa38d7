"""A component with inputs and a plain custom resource (not dynamic): both echo inputs."""

from __future__ import annotations

from typing import Any

import pulumi

cfg = pulumi.Config("sample")
label = cfg.get("label") or "one"


class Group(pulumi.ComponentResource):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__("test:component:Labelled", name, props)
        self.register_outputs({"label": props["label"]})


class Thing(pulumi.CustomResource):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__("test:index:Thing", name, props)


group = Group("group", {"label": label})
thing = Thing("thing", {"size": 1})
pulumi.export("thing_id", thing.id)
