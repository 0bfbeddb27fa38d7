#!/usr/bin/env bash
# Generate the native provider plugin's SDKs from its schema, offline, with the
# Pulumi CLI that tools/pulumi-cli/build.sh builds (`pulumi package gen-sdk`,
# served by the stand-in language hosts and Pulumi's own code generators).
#
#   tools/build_sdks.sh [OUT]      # default OUT: build/sdks; prints OUT, last
#
# OUT/python                           the Python SDK (package pulumi_vpsbackup_native)
# OUT/nodejs                           the TypeScript SDK's source, compiled into bin/
# OUT/pulumi-vpsbackup-native.tgz      that SDK packed for `npm install` (JavaScript
#                                      and typings: no install script, and the
#                                      program's own @pulumi/pulumi is the one used)
# OUT/go                               the Go SDK: a module (go.mod, go.sum) whose path
#                                      is the schema's language.go.importBasePath
#                                      less its last element; the package is OUT/go/vpsbackup
#
# Reused when the schema, the generator and this script are unchanged. The
# TypeScript SDK needs Node.js and npm; its first build reaches the npm
# registry for typescript and @pulumi/pulumi, later ones use npm's cache. The
# Go SDK needs Go; its go.sum comes from the Go module proxy (or the module
# cache), at the sdk/v3 version tools/pulumi-cli/go.mod pins.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
schema="$repo/pulumi_vpsbackup/plugin/schema.json"
out="$(mkdir -p "${1:-$repo/build/sdks}" && cd "${1:-$repo/build/sdks}" && pwd)"
[ -f "$schema" ] || { echo "tools/build_sdks.sh: no schema at $schema" >&2; exit 1; }
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "tools/build_sdks.sh: $tool is needed for the TypeScript SDK (Debian: apt-get install nodejs npm)" >&2
    exit 1
  }
done
command -v go >/dev/null 2>&1 || {
  echo "tools/build_sdks.sh: go is needed for the Go SDK's go.mod (and for the CLI): https://go.dev/dl" >&2
  exit 1
}

# The version lives only in pulumi_vpsbackup/_version.py; the schema has none.
version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/pulumi_vpsbackup/_version.py")"
[ -n "$version" ] || { echo "tools/build_sdks.sh: no __version__ in pulumi_vpsbackup/_version.py" >&2; exit 1; }

cli="$("$repo/tools/pulumi-cli/build.sh")"
key="$(echo "$version" | cat - "$schema" "$0" "$repo/tools/pulumi-cli/langhost.py" "$repo"/tools/pulumi-cli/sdkgen/*.go \
  "$repo/tools/pulumi-cli/go.mod" "$repo/tools/pulumi-cli/go.sum" | sha256sum | cut -c1-12)"
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && [ -f "$out/pulumi-vpsbackup-native.tgz" ] \
  && [ -f "$out/go/go.sum" ]; then
  echo "SDKs in $out are up to date" >&2
  echo "$out"
  exit 0
fi

start=$(date +%s)
tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# A PULUMI_HOME of its own: gen-sdk reads no user plugin or credential.
export PULUMI_HOME="$tmp/.pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true \
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The CLI's own directory first: its stand-in hosts generate the SDKs. The engine
# prefers a pulumi-language-<runtime> on PATH, and Pulumi's older real hosts that
# `make hosts` builds (which a caller may have on PATH) cannot generate one.
export PATH="$cli:$PATH"
for language in python nodejs go; do
  (cd "$tmp" && "$cli/pulumi" package gen-sdk "$schema" --language "$language" \
    --version "$version" --out "$tmp")
done
(
  cd "$tmp/nodejs"
  npm install --prefer-offline --no-audit --no-fund --loglevel=error >&2
  npx --no-install tsc
  cp package.json README.md bin/
  npm pack ./bin --pack-destination "$tmp" --loglevel=error >/dev/null
  mv "$tmp"/pulumi-vpsbackup-native-*.tgz "$tmp/pulumi-vpsbackup-native.tgz"
)
# Pulumi's Go generator writes packages but no go.mod (it does only for a schema
# whose meta says supportPack, which would change the other SDKs too), as for
# the providers that publish a hand-written sdk/go.mod: make the module here,
# requiring the Pulumi Go SDK the pinned CLI comes with.
import_base="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["language"]["go"]["importBasePath"])' "$schema")"
read -r sdk_version go_version < <(cd "$repo/tools/pulumi-cli" && \
  go list -m -f '{{.Version}} {{.GoVersion}}' github.com/pulumi/pulumi/sdk/v3)
(
  cd "$tmp/go"
  go mod init "$(dirname "$import_base")" 2>/dev/null
  go mod edit -go="$go_version" -require="github.com/pulumi/pulumi/sdk/v3@$sdk_version"
  go mod tidy
)
rm -rf "$out/python" "$out/nodejs" "$out/go" "$tmp/.pulumi-home"
mv "$tmp/python" "$tmp/nodejs" "$tmp/go" "$out/"
mv "$tmp/pulumi-vpsbackup-native.tgz" "$out/"
echo "$key" >"$out/.key"
echo "SDKs generated into $out in $(( $(date +%s) - start )) s" >&2
echo "$out"
