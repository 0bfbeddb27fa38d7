#!/usr/bin/env bash
# Build what a user installs into dist/ (`make dist` runs this):
#
#   tools/build_dist.sh [OUT]        # default OUT: dist; prints OUT, last
#
# OUT/pulumi_vpsbackup-<v>-py3-none-any.whl, OUT/pulumi_vpsbackup-<v>.tar.gz
#                                   the package (dynamic provider + plugin code)
# OUT/pulumi_vpsbackup_native-<v>-py3-none-any.whl
#                                   the native plugin's Python SDK (build/sdks/python)
# OUT/pulumi-vpsbackup-native-<v>.tgz
#                                   its TypeScript SDK, for `npm install`
# OUT/pulumi-vpsbackup-native-go-<v>.tar.gz
#                                   its Go SDK (build/sdks/go): the module
#                                   github.com/pulumi-vpsbackup/pulumi-vpsbackup/sdk/go
#                                   in pulumi-vpsbackup-native-go-<v>/, for a `replace`
# OUT/pulumi-resource-vpsbackup-v<v>-linux-amd64.tar.gz
#                                   the plugin, named as the engine downloads it
#                                   (standardAssetName in sdk/v3 go/common/workspace)
# OUT/terraform-provider-vpsbackup_<v>_linux_amd64.zip
# OUT/terraform-provider-vpsbackup_<v>_SHA256SUMS
#                                   the OpenTofu/Terraform provider, in the registry's
#                                   layout: the packed name a filesystem mirror takes
#                                   (HOST/vpsbackup/vpsbackup/<that zip>), and the sums
#
# <v> is pulumi_vpsbackup/_version.py's, the only place a version is written.
#
# The plugin archive needs only a `python3` (3.10 to 3.13) on the user's machine:
#   pulumi-resource-vpsbackup   a POSIX sh launcher: picks python3 (or python3.1x,
#                               or $PULUMI_VPSBACKUP_PYTHON) whose version has a
#                               library directory here, else says what it found
#   lib/launch.py               puts the bundled libraries first on sys.path and
#                               starts the plugin (`python -I`: no user site, no
#                               PYTHON* variables)
#   lib/python3.X/              the binary dependencies (grpcio, protobuf, PyYAML,
#                               ...) built for CPython 3.X, manylinux2014 x86_64
#   lib/any/                    what is the same for every version: pulumi_vpsbackup
#                               and the pure-Python dependencies, stored once
# The provider zip holds the same lib/ (staged once, for both) with
# lib/launch_terraform.py instead of lib/launch.py, beside the same launcher
# named terraform-provider-vpsbackup_v<v>. OpenTofu runs the first file of the
# unpacked directory, in name order, named terraform-provider-vpsbackup or that
# followed by `_` or `.`: no other file may be. It hashes every file of that
# directory into the lock file (h1:) and checks it again on each run, so the
# provider writes its bytecode elsewhere (sys.pycache_prefix, under
# ~/.cache/pulumi-vpsbackup/pycache).
# Wheels only (`--only-binary=:all:`): nothing is compiled, here or there. The
# dependencies are resolved once per set of requirements and kept in a cache
# outside the clone (VPSBACKUP_DIST_CACHE); pip's own cache serves the wheels.
#
# PYTHON (default python3) runs `build` and pip; it needs the `build` package
# (the dev extra). The SDKs come from tools/build_sdks.sh (Node.js, npm, the CLI);
# DIST_SDKS=no leaves them out (the package and both archives only, with no
# Node.js or CLI needed: tests/terraform/test_tofu_dist.py builds that).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$repo/dist}" && cd "${1:-$repo/dist}" && pwd)"
PYTHON="${PYTHON:-python3}"
# The CPython versions the plugin archive carries libraries for (setup.py's classifiers).
PYTHONS="${DIST_PYTHONS:-3.10 3.11 3.12 3.13}"
PLATFORM=manylinux2014_x86_64
cache="${VPSBACKUP_DIST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-vpsbackup/dist}"
version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/pulumi_vpsbackup/_version.py")"
[ -n "$version" ] || { echo "tools/build_dist.sh: no __version__ in pulumi_vpsbackup/_version.py" >&2; exit 1; }
"$PYTHON" -c 'import build' 2>/dev/null || {
  echo "tools/build_dist.sh: $PYTHON has no \`build\` module; pip install build (or: make install)" >&2
  exit 1
}

start=$(date +%s)
mkdir -p "$cache"
tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
pip() { "$PYTHON" -m pip --disable-pip-version-check "$@"; }

# 1. The package: sdist, then the wheel from that sdist (as tests/test_build.py does).
"$PYTHON" -m build --outdir "$tmp/pkg" "$repo" >"$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log" >&2
  exit 1
}
wheel="$tmp/pkg/pulumi_vpsbackup-$version-py3-none-any.whl"
sdist="$tmp/pkg/pulumi_vpsbackup-$version.tar.gz"
[ -f "$wheel" ] && [ -f "$sdist" ] || {
  echo "tools/build_dist.sh: build made $(ls "$tmp/pkg"), not version $version" >&2
  exit 1
}
echo "package built ($(( $(date +%s) - start )) s)" >&2

# 2. The SDKs (reused by build_sdks.sh while unchanged), the Python one as a wheel.
if [ "${DIST_SDKS:-yes}" != no ]; then
  sdks="$("$repo/tools/build_sdks.sh" "$repo/build/sdks" | tail -n 1)"
  pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$tmp/pkg" "$sdks/python" 2>"$tmp/sdk.log" ||
    pip wheel --quiet --no-deps --wheel-dir "$tmp/pkg" "$sdks/python" || {
    cat "$tmp/sdk.log" >&2
    exit 1
  }
  ls "$tmp/pkg/pulumi_vpsbackup_native-$version-"*.whl >/dev/null || {
    echo "tools/build_dist.sh: the Python SDK's wheel is not version $version: $(ls "$tmp/pkg")" >&2
    exit 1
  }
  cp "$sdks/pulumi-vpsbackup-native.tgz" "$tmp/pkg/pulumi-vpsbackup-native-$version.tgz"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    --transform "s,^go,pulumi-vpsbackup-native-go-$version," \
    -C "$sdks" -czf "$tmp/pkg/pulumi-vpsbackup-native-go-$version.tar.gz" go
  echo "SDKs packed ($(( $(date +%s) - start )) s)" >&2
fi

# 3. The plugin archive. The dependencies are the wheel's own Requires-Dist (no extras).
"$PYTHON" - "$wheel" >"$tmp/requirements.txt" <<'EOF'
import sys, zipfile
from email.parser import Parser
with zipfile.ZipFile(sys.argv[1]) as whl:
    meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
    msg = Parser().parsestr(whl.read(meta).decode())
for req in msg.get_all("Requires-Dist") or []:
    if "extra ==" not in req:
        print(req)
EOF
key="$(cat "$tmp/requirements.txt" - <<<"$PYTHONS $PLATFORM v1" | sha256sum | cut -c1-12)"
deps="$cache/deps-$key"
if [ ! -f "$deps/.complete" ]; then
  rm -rf "$deps"
  mkdir -p "$deps.tmp"
  for py in $PYTHONS; do
    target="$deps.tmp/python$py"
    wanted="$tmp/requirements.txt"
    # pip judges the dependencies' environment markers by the interpreter running
    # it, not by --python-version (anyio needs exceptiongroup below 3.11, which
    # pip on 3.11 skips): install what the markers ask for Python $py until none
    # is missing.
    rounds=0
    while [ -s "$wanted" ]; do
      rounds=$((rounds + 1))
      [ "$rounds" -le 5 ] || {
        echo "tools/build_dist.sh: still missing for Python $py: $(cat "$wanted")" >&2
        exit 1
      }
      pip install --quiet --target "$target" --only-binary=:all: --no-compile --upgrade \
        --implementation cp --python-version "$py" --platform "$PLATFORM" -r "$wanted"
      "$PYTHON" - "$target" "$py" >"$tmp/missing.txt" <<'EOF'
import sys
from importlib.metadata import distributions
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
target, version = sys.argv[1], sys.argv[2]
env = {**default_environment(), "python_version": version, "python_full_version": version + ".0",
       "implementation_name": "cpython", "platform_python_implementation": "CPython",
       "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "extra": ""}
dists = list(distributions(path=[target]))
have = {canonicalize_name(d.metadata["Name"]) for d in dists}
for dist in dists:
    for text in dist.requires or []:
        req = Requirement(text)
        if canonicalize_name(req.name) not in have and (not req.marker or req.marker.evaluate(env)):
            print(str(req).split(";")[0])
EOF
      sort -u "$tmp/missing.txt" >"$tmp/wanted.txt"
      wanted="$tmp/wanted.txt"
    done
    # The Pulumi SDK requires debugpy for debugging programs under its language
    # host; nothing the plugin imports uses it, and it is 28 MB per version.
    rm -rf "$target/bin" "$target"/debugpy "$target"/debugpy-*.dist-info
    echo "dependencies for Python $py resolved ($(( $(date +%s) - start )) s)" >&2
  done
  touch "$deps.tmp/.complete"
  mv "$deps.tmp" "$deps"
fi

stage="$tmp/plugin"
mkdir -p "$stage/lib"
for py in $PYTHONS; do cp -a "$deps/python$py" "$stage/lib/python$py"; done
pip install --quiet --no-deps --no-compile --target "$stage/lib/any" "$wheel"
rm -rf "$stage/lib/any/bin"
# What every version's directory holds identically goes to lib/any, once.
"$PYTHON" - "$stage/lib" $PYTHONS <<'EOF'
import hashlib, os, shutil, sys
lib, versions = sys.argv[1], sys.argv[2:]
dirs = [os.path.join(lib, f"python{v}") for v in versions]

def digest(path):
    h = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            h.update(f.read())
        return h.hexdigest()
    for root, subdirs, files in os.walk(path):
        subdirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            h.update(os.path.relpath(full, path).encode() + b"\0")
            with open(full, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()

for name in sorted(os.listdir(dirs[0])):
    paths = [os.path.join(d, name) for d in dirs]
    if all(os.path.exists(p) for p in paths) and len({digest(p) for p in paths}) == 1:
        shutil.move(paths[0], os.path.join(lib, "any", name))
        for p in paths[1:]:
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
EOF
cp "$repo/LICENSE" "$stage/LICENSE"
cat >"$stage/lib/launch.py" <<'EOF'
"""Start the vpsbackup provider plugin on the libraries bundled beside this file."""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, "python%d.%d" % sys.version_info[:2]), os.path.join(here, "any")]

from pulumi_vpsbackup.plugin.server import main  # noqa: E402

sys.exit(main())
EOF
cat >"$stage/lib/launch_terraform.py" <<'EOF'
"""Start the vpsbackup provider for OpenTofu/Terraform on the libraries beside this file."""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, "python%d.%d" % sys.version_info[:2]), os.path.join(here, "any")]
# OpenTofu checks this directory's files against the lock file's h1: hash on
# every run: a __pycache__ written here would fail the next one.
cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
if os.path.isabs(cache):
    sys.pycache_prefix = os.path.join(cache, "pulumi-vpsbackup", "pycache")
else:
    sys.dont_write_bytecode = True

try:
    from pulumi_vpsbackup.terraform.server import main
except Exception as exc:  # a damaged install: say so where OpenTofu shows it
    # OpenTofu quotes the first line of a provider's stdout in its error.
    message = "terraform-provider-vpsbackup: cannot start: %s: %s" % (type(exc).__name__, exc)
    print(message, flush=True)
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)

sys.exit(main())
EOF
supported="$(echo $PYTHONS | sed 's/ /, /g')"
newest_first=""
for py in $PYTHONS; do newest_first=" python$py$newest_first"; done
# launcher NAME WHAT SCRIPT [TELL]: the sh launcher called NAME (in messages),
# the vpsbackup provider for WHAT, running lib/SCRIPT; on stdout. When it finds
# no Python it says why on stderr, and also on stdout if TELL names a variable
# that is set: OpenTofu shows a provider's stderr only in its debug log, but
# quotes the first line it reads from stdout in its error (go-plugin's
# "Unrecognized remote plugin message").
launcher() {
  cat <<EOF
#!/bin/sh
# $1 $version: the vpsbackup provider$2.
# Runs with a python3 of a version this archive has libraries for ($supported).
# Shell built-ins only (readlink if there is one): PATH may hold little else.
self=\$0
if command -v readlink >/dev/null 2>&1; then self=\$(readlink -f -- "\$0"); fi
here=\${self%/*}
candidates="\${PULUMI_VPSBACKUP_PYTHON:-python3$newest_first}"
found=""
for py in \$candidates; do
  command -v "\$py" >/dev/null 2>&1 || continue
  v=\$("\$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ -d "\$here/lib/python\$v" ]; then
    exec "\$py" -I "\$here/lib/$3" "\$@"
  fi
  found="\$found \$(command -v "\$py") is Python \$v;"
done
if [ -n "\${PULUMI_VPSBACKUP_PYTHON:-}" ] && [ -z "\$found" ]; then
  why="$1: PULUMI_VPSBACKUP_PYTHON is \$PULUMI_VPSBACKUP_PYTHON, which is not a Python on PATH (\$PATH); set it to a python3 of Python $supported, or unset it to use python3"
elif [ -z "\$found" ]; then
  why="$1: needs python3 (Python $supported) and found none on PATH (\$PATH); install one (Debian/Ubuntu: apt-get install python3) or set PULUMI_VPSBACKUP_PYTHON to its path"
else
  why="$1: needs Python $supported, but\$found install one of those (Debian/Ubuntu: apt-get install python3) or set PULUMI_VPSBACKUP_PYTHON to its path"
fi
echo "\$why" >&2
EOF
  if [ -n "${4:-}" ]; then
    echo "if [ -n \"\${$4:-}\" ]; then echo \"\$why\"; fi"
  fi
  echo "exit 1"
}
launcher pulumi-resource-vpsbackup " plugin for Pulumi" launch.py >"$stage/pulumi-resource-vpsbackup"
chmod 755 "$stage/pulumi-resource-vpsbackup"
archive="pulumi-resource-vpsbackup-v$version-linux-amd64.tar.gz"
# Regular files and directories only (the engine's extractor takes no hard links),
# in a stable order with fixed owners and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --hard-dereference \
  --exclude=lib/launch_terraform.py \
  -C "$stage" -czf "$tmp/pkg/$archive" pulumi-resource-vpsbackup LICENSE lib
echo "plugin archive packed ($(( $(date +%s) - start )) s)" >&2

# 4. The OpenTofu/Terraform provider: the same libraries, zipped as the registry
# serves a provider (what a filesystem mirror's packed layout takes), and the sums.
provider="terraform-provider-vpsbackup"
"$PYTHON" - "$wheel" <<'EOF' || exit 1
import sys, zipfile
stub = "pulumi_vpsbackup/terraform/tfplugin6/tfplugin6_pb2.py"
if stub not in zipfile.ZipFile(sys.argv[1]).namelist():
    sys.exit(f"tools/build_dist.sh: the wheel has no {stub}; the provider cannot start without "
             "the generated stubs (tools/tfproto.sh, or make install)")
EOF
# TF_PLUGIN_MAGIC_COOKIE: set when OpenTofu or Terraform starts it.
launcher "$provider" " for OpenTofu and Terraform" launch_terraform.py TF_PLUGIN_MAGIC_COOKIE >"$stage/${provider}_v$version"
chmod 755 "$stage/${provider}_v$version"
zip_name="${provider}_${version}_linux_amd64.zip"
# Python's zipfile, for what zip(1) does not promise: entries in name order,
# fixed times, Unix modes (the exec bit OpenTofu's unpacking keeps) and no
# directory entries.
"$PYTHON" - "$stage" "$tmp/pkg/$zip_name" "${provider}_v$version" LICENSE lib <<'EOF'
import os, stat, sys, zipfile
stage, target, *tops = sys.argv[1:]
skip = {"lib/launch.py"}
files = []
for top in tops:
    path = os.path.join(stage, top)
    if os.path.isfile(path):
        files.append(top)
    for root, dirs, names in os.walk(path):
        for name in names:
            files.append(os.path.relpath(os.path.join(root, name), stage))
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
    for name in sorted(set(files) - skip):
        full = os.path.join(stage, name)
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        mode = 0o755 if os.stat(full).st_mode & stat.S_IXUSR else 0o644
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(full, "rb") as f:
            zf.writestr(info, f.read())
EOF
sums="${provider}_${version}_SHA256SUMS"
(cd "$tmp/pkg" && sha256sum "$zip_name" >"$sums")
echo "provider zip packed ($(( $(date +%s) - start )) s)" >&2

# Replace dist/'s artifacts of any version with this build's, all at once.
rm -f "$out"/pulumi_vpsbackup-*.whl "$out"/pulumi_vpsbackup-*.tar.gz \
  "$out"/pulumi_vpsbackup_native-*.whl "$out"/pulumi-vpsbackup-native-*.tgz \
  "$out"/pulumi-vpsbackup-native-go-*.tar.gz "$out"/pulumi-resource-vpsbackup-v*.tar.gz \
  "$out"/terraform-provider-vpsbackup_*.zip "$out"/terraform-provider-vpsbackup_*_SHA256SUMS
mv "$tmp"/pkg/* "$out/"
echo "dist built in $out in $(( $(date +%s) - start )) s ($(du -h "$out/$archive" | cut -f1) plugin archive, $(du -h "$out/$zip_name" | cut -f1) provider zip)" >&2
echo "$out"
