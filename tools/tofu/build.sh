#!/usr/bin/env bash
# Build the OpenTofu CLI (tofu) that the Terraform provider's tests run, from Go
# modules, at the version that go.mod beside this script pins; reuse it when it
# is already built.
#
#   tools/tofu/build.sh             # prints the directory holding `tofu`, last
#   tools/tofu/build.sh --if-built  # the same, but exits 3 (building nothing) when
#                                   # it is not built yet
#
# The directory is $VPSBACKUP_CLI_CACHE/tofu-v<version>-<hash of go.mod, go.sum
# and this script> (default cache: ~/.cache/pulumi-vpsbackup), outside the work
# tree, so clones and CI runs on one machine share one build. Nothing here
# reaches anything but the Go module proxy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

version="$(go list -m -f '{{.Version}}' github.com/opentofu/opentofu)"
key="$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)"
root="${VPSBACKUP_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-vpsbackup}"
dir="$root/tofu-$version-$key"

# Its first line of `tofu version`, without the warnings a CLI configuration
# (~/.tofurc, TF_CLI_CONFIG_FILE) of this machine could add.
tofu_version() {
  TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null | sed -n 1p
}

if [ ! -f "$dir/.complete" ] && [ "${1:-}" = "--if-built" ]; then
  exit 3
fi
if [ ! -f "$dir/.complete" ]; then
  start=$(date +%s)
  mkdir -p "$root"
  tmp="$(mktemp -d "$root/.build.XXXXXX")"
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building tofu $version into $dir (the first build takes about 7 minutes on 2 cores; with Go's caches warm, under a minute)" >&2
  # version.dev=no is what OpenTofu's release build sets: without it the
  # binary calls itself v<version>-dev.
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X github.com/opentofu/opentofu/version.dev=no" \
    -o "$tmp/tofu" github.com/opentofu/opentofu/cmd/tofu
  said="$(tofu_version "$tmp/tofu")" || said=""
  [ "$said" = "OpenTofu $version" ] || {
    echo "tools/tofu/build.sh: the built tofu says '$said', not 'OpenTofu $version'" >&2
    exit 1
  }
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

said="$(tofu_version "$dir/tofu")" || said=""
[ -n "$said" ] || {
  echo "$dir is damaged; remove it and run make tofu again" >&2
  exit 1
}
echo "$said in:" >&2
echo "$dir"
