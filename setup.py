"""Packaging for pulumi_vpsbackup: VPS.org server backups as Pulumi resources."""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import FileError

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "pulumi_vpsbackup" / "_version.py").read_text()
).group(1)  # type: ignore[union-attr]

FAKE = ["werkzeug>=3.0,<4"]
DEV = [
    *FAKE,
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "respx>=0.21",
    "requests>=2.31",  # the seeds' own Python examples use it; tests replay them
    "pyyaml>=6",  # tests read the examples' Pulumi.yaml files
    "build>=1.2",  # tests/test_build.py builds the sdist and wheel as a release would
    "pdoc>=15",  # `make docs`: the API reference from the docstrings
    # tools/tfproto.sh generates the tfplugin6 stubs with it. Pinned: the stubs
    # refuse a grpcio older than the generator and a protobuf older than the one
    # it bundles (6.31.1), which install_requires promise; 1.81 and later bundle
    # protobuf 7, and pulumi requires protobuf<7.
    "grpcio-tools==1.80.1",
    # Pinned: a new release of either can fail `make test` on unchanged code.
    "ruff==0.17.6",
    "mypy==2.4.1",
]

REPOSITORY = "https://github.com/pulumi-vpsbackup/pulumi-vpsbackup"
PACKAGES = find_packages(include=["pulumi_vpsbackup", "pulumi_vpsbackup.*"])

# The Terraform plugin protocol's stubs are generated (tools/tfproto.sh, which
# `make install` runs), never committed: a checkout has them only once
# generated, and an sdist or wheel built without them would install a provider
# that cannot start. The sdist carries them, so a wheel built from it has them.
STUBS = ("__init__.py", "tfplugin6_pb2.py", "tfplugin6_pb2_grpc.py")


def require_stubs() -> None:
    where = HERE / "pulumi_vpsbackup" / "terraform" / "tfplugin6"
    missing = [name for name in STUBS if not (where / name).is_file()]
    if missing:
        raise FileError(
            f"pulumi_vpsbackup/terraform/tfplugin6/{missing[0]} is missing: the tfplugin6 "
            "stubs are generated, not committed; run tools/tfproto.sh (or `make install`) "
            "before building"
        )
    if "pulumi_vpsbackup.terraform.tfplugin6" not in PACKAGES:
        raise FileError(
            "pulumi_vpsbackup/terraform/__init__.py is missing: without it the tfplugin6 "
            "stubs that tools/tfproto.sh generated would be left out"
        )


class SdistWithStubs(sdist):
    def run(self) -> None:
        require_stubs()
        super().run()


class BuildPyWithStubs(build_py):
    def run(self) -> None:
        # An editable install (`make install`) builds nothing: it runs before
        # tools/tfproto.sh, whose grpcio-tools comes from the dev extra.
        if not self.editable_mode:
            require_stubs()
        super().run()


setup(
    name="pulumi_vpsbackup",
    version=VERSION,
    description="VPS.org server backups and restores as Pulumi resources (a dynamic provider).",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    url=REPOSITORY,
    project_urls={
        "Documentation": f"{REPOSITORY}/blob/main/README.md",
        "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.md",
        "Issues": f"{REPOSITORY}/issues",
        "Source": REPOSITORY,
    },
    author="pulumi-vpsbackup maintainers",
    maintainer="pulumi-vpsbackup maintainers",
    license="Apache-2.0",
    license_files=["LICENSE"],
    keywords=["pulumi", "vps.org", "vps", "backup", "restore", "infrastructure-as-code"],
    python_requires=">=3.10",
    packages=PACKAGES,
    package_data={
        # pulumi-plugin.json says "no resource plugin": without it Pulumi's Python
        # language host takes any pulumi_*/pulumi-* distribution for a plugin's SDK
        # and tries to download a plugin named after it.
        "pulumi_vpsbackup": ["py.typed", "pulumi-plugin.json"],
        "pulumi_vpsbackup.fake": ["DESIGN.md"],
        "pulumi_vpsbackup.plugin": ["schema.json"],
    },
    install_requires=[
        # 3.216 is the first SDK whose ReadResult carries inputs; configure()
        # with the full stack config needs 3.139.
        "pulumi>=3.216,<4",
        "httpx>=0.27,<1",
        # google.rpc.Status: the plugin's status details for a create the engine
        # cancelled (pulumi's own dependencies bring it today; we import it).
        "googleapis-common-protos>=1.56,<2",
        # The Terraform provider (pulumi_vpsbackup.terraform): its tfplugin6 stubs
        # check at import that the runtimes are at least the generator's
        # (grpcio-tools 1.80.1, which bundles protobuf 6.31.1).
        "grpcio>=1.80.1,<2",
        "protobuf>=6.31.1,<7",
        # cty values travel as MessagePack.
        "msgpack>=1.0,<2",
        # The certificate of go-plugin's automatic mTLS with tofu.
        "cryptography>=42",
    ],
    extras_require={"fake": FAKE, "dev": DEV},
    cmdclass={"sdist": SdistWithStubs, "build_py": BuildPyWithStubs},
    entry_points={
        "console_scripts": [
            "vpsbackup-fake=pulumi_vpsbackup.fake_command:main",
            # The native provider plugin: the engine finds it on PATH by this name.
            "pulumi-resource-vpsbackup=pulumi_vpsbackup.plugin.server:main",
            # The Terraform/OpenTofu provider plugin.
            "terraform-provider-vpsbackup=pulumi_vpsbackup.terraform.server:main",
        ],
    },
    # Only classifiers that exist on PyPI: there is no "Framework :: Pulumi". No
    # "License ::" classifier either: `license` is an SPDX expression (PEP 639),
    # which supersedes it; setuptools warns about the pair and PEP 639 lets
    # tools refuse it.
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Developers",
        "Intended Audience :: System Administrators",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: System :: Archiving :: Backup",
        "Topic :: System :: Systems Administration",
        "Typing :: Typed",
    ],
)
