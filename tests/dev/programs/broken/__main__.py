"""Registers one file, then fails: the engine must not delete what it did not see."""

from __future__ import annotations

import pulumi

from tests.dev.sample_provider import SampleFile

cfg = pulumi.Config("sample")
SampleFile("a", {"dir": cfg.require("dir"), "name": "a.txt", "content": "v1"})
raise RuntimeError("the program is broken")
