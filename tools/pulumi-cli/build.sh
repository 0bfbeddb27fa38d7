#!/usr/bin/env bash
# Build the Pulumi CLI that the tests run, from Go modules, at the version that
# go.mod beside this script pins; reuse it when it is already built.
#
#   tools/pulumi-cli/build.sh             # prints the directory to put on PATH, last
#   tools/pulumi-cli/build.sh --if-built  # the same, but exits 3 (building nothing) when
#                                         # it is not built yet
#
# The directory is $VPSBACKUP_CLI_CACHE/pulumi-v<version>-<hash of this folder>
# (default cache: ~/.cache/pulumi-vpsbackup), outside the work tree, so clones
# and CI runs on one machine share one build. Nothing here reaches anything but
# the Go module proxy and PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
sdk_version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
if [ "$version" != "$sdk_version" ]; then
  echo "tools/pulumi-cli/go.mod: pkg/v3 is $version but sdk/v3 is $sdk_version; pin both to one version" >&2
  exit 1
fi
key="$(cat go.mod go.sum | sha256sum | cut -c1-12)"
root="${VPSBACKUP_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-vpsbackup}"
dir="$root/pulumi-$version-$key"

if [ ! -f "$dir/.complete" ] && [ "${1:-}" = "--if-built" ]; then
  exit 3
fi
if [ ! -f "$dir/.complete" ]; then
  start=$(date +%s)
  mkdir -p "$root"
  tmp="$(mktemp -d "$root/.build.XXXXXX")"
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building pulumi $version into $dir (the first build takes about 16 minutes on 2 cores, several minutes on a faster machine)" >&2
  CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

  # Two scripts the CLI needs at run time ship inside the sdk/v3 module; the
  # module cache is read-only, so install executable copies.
  sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$tmp/"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$tmp/"

  # The Python language host (see langhost.py for why it is not Pulumi's own
  # Go host): a virtualenv of its own, with the Pulumi SDK the project uses.
  python3 -m venv "$tmp/langhost-venv"
  "$tmp/langhost-venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pulumi==${VPSBACKUP_LANGHOST_SDK:-3.272.0}"
  echo "${version#v}" >"$tmp/VERSION"
  printf '#!/bin/sh\nexec "$(dirname "$0")/langhost-venv/bin/python" -u "$(dirname "$0")/langhost.py" "$@"\n' \
    >"$tmp/pulumi-language-python"
  chmod 0755 "$tmp/pulumi-language-python"

  "$tmp/pulumi" version >/dev/null
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

# The hosts' source is this repository's: a copy named by its content, which
# the wrappers run, so that a build.sh of another checkout sharing this cache
# (refreshing only langhost.py, as older ones do) cannot swap it under them.
cmp -s langhost.py "$dir/langhost.py" || install -m 0644 langhost.py "$dir/langhost.py"
host="langhost-$(sha256sum langhost.py | cut -c1-12).py"
if [ ! -f "$dir/$host" ]; then
  new="$(mktemp "$dir/.langhost.XXXXXX")"
  install -m 0644 langhost.py "$new"
  mv "$new" "$dir/$host"
fi
# The code generator the hosts run for `pulumi package gen-sdk`, `pulumi import`,
# `pulumi convert` and `pulumi package add` (sdkgen/), built from the pinned
# pkg/v3 in a step of its own, so that a CLI already in the cache gets it too.
# Named by its source, as the host is: checkouts sharing this cache each run
# their own.
sdkgen="pulumi-vpsbackup-sdkgen-$(cat go.mod go.sum sdkgen/*.go | sha256sum | cut -c1-12)"
if [ ! -x "$dir/$sdkgen" ]; then
  start=$(date +%s)
  echo "building the code generator into $dir" >&2
  new="$(mktemp "$dir/.pulumi-vpsbackup-sdkgen.XXXXXX")"
  CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace -o "$new" ./sdkgen
  mv "$new" "$dir/$sdkgen"
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

# One program, three plugins: pulumi-language-python, pulumi-language-nodejs and
# pulumi-language-go (code generation only; see langhost.py).
for runtime in python nodejs go; do
  wrapper="#!/bin/sh
exec \"\$(dirname \"\$0\")/langhost-venv/bin/python\" -u \"\$(dirname \"\$0\")/$host\" --runtime $runtime --sdkgen \"\$(dirname \"\$0\")/$sdkgen\" \"\$@\""
  if [ "$(cat "$dir/pulumi-language-$runtime" 2>/dev/null)" != "$wrapper" ]; then
    new="$(mktemp "$dir/.pulumi-language-$runtime.XXXXXX")"
    printf '%s\n' "$wrapper" >"$new"
    chmod 0755 "$new"
    mv "$new" "$dir/pulumi-language-$runtime"
  fi
done

# A virtualenv's scripts name their interpreter by absolute path; a moved one
# would break, so check the host can start rather than trust the marker alone.
"$dir/langhost-venv/bin/python" -c 'import grpc, pulumi.runtime.proto' 2>/dev/null || {
  echo "$dir is damaged; remove it and run make cli again" >&2
  exit 1
}
echo "pulumi $("$dir/pulumi" version) in:" >&2
echo "$dir"
