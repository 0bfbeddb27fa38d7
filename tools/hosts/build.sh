#!/usr/bin/env bash
# Build three of Pulumi's real language hosts, which the tests run beside our
# stand-in (tools/pulumi-cli/langhost.py), and reuse them when already built:
#
#   tools/hosts/build.sh        # prints the directory to put first on PATH, last
#
# - Pulumi's Go Python host of sdk/v3 v3.79.0 (python/go.mod pins it; later
#   versions are a module of their own that the Go proxy does not serve), with
#   its pulumi-language-python-exec beside it, started through a wrapper
#   (python/wrapper) that gives it the `-virtualenv=…`/`-root=…` flags today's
#   engine no longer passes.
# - Pulumi's YAML host, pulumi-yaml v1.25.0 (yaml/go.mod pins it).
# - Pulumi's Go host of sdk/v3 v3.66.0 (go/go.mod pins it; from v3.67.0 it is
#   the module github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3, every
#   version of which the Go proxy refuses). It runs Go programs (`go build`,
#   then the binary) under today's engine; it has no GeneratePackage, so
#   `pulumi package gen-sdk --language go` is the stand-in's (tools/build_sdks.sh
#   puts the CLI's own directory first on PATH). Runtime options (`binary`,
#   `buildTarget`) reached it as flags from engines of its time, which today's
#   does not pass: they are ignored, and Go programs are built from source.
#
# How a test makes the CLI use them rather than the stand-in: the engine looks
# for a language host `pulumi-language-<runtime>` in Pulumi.yaml `plugins:
# languages:`, then on PATH, then next to the running `pulumi` with symlinks
# resolved, and prefers PATH over next-to-pulumi, warning "using … from $PATH"
# when the two differ (sdk/v3@v3.276.0 go/common/workspace/plugins.go,
# getPluginInfoAndPath). So the printed directory is laid out as the official
# release is: a hard link (or copy) of the CLI's `pulumi` and its dynamic-
# provider launcher, with these hosts beside them. Put first on PATH, it is
# both what PATH finds and what sits next to `pulumi`: the real hosts run, and
# no warning is printed. The CLI's own directory (tools/pulumi-cli/build.sh,
# which this calls) keeps the stand-in.
#
# Measured on two shared cores (load average about 6), Go 1.26: from empty Go
# module and build caches 304 s (Python host 158 s with its module downloads
# and the standard library, YAML host 144 s); a rebuild with Go's caches warm
# about 10 s for both; a reuse 2 s (it asks `go list` for the pins). The Go
# host adds 140 s from an empty build cache (its modules downloaded, load
# about 6), 28 s with the standard library cached, 2 s with Go's caches warm.
#
# Layout under the cache ($VPSBACKUP_CLI_CACHE, default ~/.cache/pulumi-vpsbackup):
#   hosts-<versions>-<hash of this folder>/        the hosts, built once
#   hosts-<versions>-<hash>/with-<CLI directory>/  the directory printed
# Each is built in a temporary directory and moved into place when complete.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

python_version="$(cd "$here/python" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
yaml_version="$(cd "$here/yaml" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-yaml)"
go_version="$(cd "$here/go" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
key="$(cd "$here" && cat build.sh python/go.mod python/go.sum python/wrapper/*.go yaml/go.mod yaml/go.sum \
  go/go.mod go/go.sum | sha256sum | cut -c1-12)"
root="${VPSBACKUP_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-vpsbackup}"
dir="$root/hosts-python-$python_version-yaml-$yaml_version-go-$go_version-$key"
flags=(-trimpath -buildvcs=false -tags osusergo,grpcnotrace)

if [ ! -f "$dir/.complete" ]; then
  start=$(date +%s)
  mkdir -p "$root"
  tmp="$(mktemp -d "$root/.build-hosts.XXXXXX")"
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building Pulumi's Python host $python_version, YAML host $yaml_version and Go host $go_version into $dir" \
    "(the first build takes a few minutes)" >&2

  cd "$here/python"
  step=$(date +%s)
  mkdir "$tmp/python-host"
  CGO_ENABLED=0 go build "${flags[@]}" \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$python_version" \
    -o "$tmp/python-host/pulumi-language-python" \
    github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
  # The host runs programs through this script, looked for next to itself; the
  # module cache is read-only, so install an executable copy.
  sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$tmp/python-host/"
  CGO_ENABLED=0 go build "${flags[@]}" -o "$tmp/pulumi-language-python" ./wrapper
  echo "python host $python_version: $(( $(date +%s) - step )) s" | tee -a "$tmp/build-times" >&2

  cd "$here/yaml"
  step=$(date +%s)
  CGO_ENABLED=0 go build "${flags[@]}" \
    -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
    -o "$tmp/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
  echo "yaml host $yaml_version: $(( $(date +%s) - step )) s" | tee -a "$tmp/build-times" >&2

  cd "$here/go"
  step=$(date +%s)
  CGO_ENABLED=0 go build "${flags[@]}" \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$go_version" \
    -o "$tmp/pulumi-language-go" github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go
  echo "go host $go_version: $(( $(date +%s) - step )) s" | tee -a "$tmp/build-times" >&2

  printf 'python %s\nyaml %s\ngo %s\n' "$python_version" "$yaml_version" "$go_version" >"$tmp/VERSIONS"
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

# The CLI the tests run (built or reused; its last line is its directory).
cli="$("$here/../pulumi-cli/build.sh" | tail -n 1)"
bundle="$dir/with-$(basename "$cli")"
if [ ! -f "$bundle/.complete" ]; then
  tmp="$(mktemp -d "$dir/.with.XXXXXX")"
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  link() { ln "$1" "$2" 2>/dev/null || cp -p "$1" "$2"; }
  # `pulumi` must be a file of this directory, not a symlink: the engine looks
  # next to the symlink-resolved executable.
  link "$cli/pulumi" "$tmp/pulumi"
  link "$cli/pulumi-resource-pulumi-python" "$tmp/pulumi-resource-pulumi-python"
  mkdir "$tmp/python-host"
  for f in pulumi-language-python pulumi-language-yaml pulumi-language-go python-host/pulumi-language-python \
    python-host/pulumi-language-python-exec; do
    link "$dir/$f" "$tmp/$f"
  done
  "$tmp/pulumi" version >/dev/null
  touch "$tmp/.complete"
  rm -rf "$bundle"
  mv "$tmp" "$bundle"
  trap - EXIT
fi
echo "Pulumi's Python host $python_version, YAML host $yaml_version and Go host $go_version," \
  "with pulumi $("$bundle/pulumi" version), in:" >&2
echo "$bundle"
