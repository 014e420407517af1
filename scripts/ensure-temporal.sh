#!/usr/bin/env bash
# Finds a `temporal` CLI binary (it carries the dev server) and prints its path on the last line of
# stdout. Progress goes to stderr. Order of preference:
#   1. $TEMPORAL_BINARY, if set
#   2. `temporal` on PATH
#   3. the cached build in $ORDER_ENGINE_CACHE (default ~/.cache/order-engine/bin/temporal)
#   4. a one-time build with `go install` (minutes; cached for every later run and every checkout)
# Binary downloads are not possible everywhere, hence the source build. v1.5.1 is the newest tag that
# `go install` accepts (later tags carry a replace directive); v1.4.1 is the fallback.
set -euo pipefail

cache_dir="${ORDER_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/order-engine}"
cached="$cache_dir/bin/temporal"
versions=(v1.5.1 v1.4.1)

say() { printf '[temporal] %s\n' "$*" >&2; }

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${TEMPORAL_BINARY:-}" ]; then
  works "$TEMPORAL_BINARY" || { say "TEMPORAL_BINARY=$TEMPORAL_BINARY is not a working temporal binary"; exit 1; }
  echo "$TEMPORAL_BINARY"; exit 0
fi
if on_path=$(command -v temporal 2>/dev/null) && works "$on_path"; then
  echo "$on_path"; exit 0
fi
if works "$cached"; then
  echo "$cached"; exit 0
fi

go_bin=$(command -v go 2>/dev/null || true)
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -z "$go_bin" ]; then
  say "No temporal binary found and Go is not installed, so it cannot be built."
  say "Install one of: the Temporal CLI (https://docs.temporal.io/cli, put 'temporal' on PATH),"
  say "or Go >= 1.23 (then this script builds the CLI once into $cached),"
  say "or point the engine at an existing cluster with TEMPORAL_ADDRESS=host:port."
  exit 1
fi

mkdir -p "$cache_dir/bin"
# Only one build at a time per cache (CI and a developer shell may race).
exec 9>"$cache_dir/build.lock"
flock 9
if works "$cached"; then echo "$cached"; exit 0; fi

for version in "${versions[@]}"; do
  say "Building the Temporal CLI $version from source with $("$go_bin" version | cut -d' ' -f3)."
  say "This happens once per machine and takes a few minutes; the result is cached in $cached."
  staging="$cache_dir/build-$version"
  rm -rf "$staging"; mkdir -p "$staging"
  log="$cache_dir/build-$version.log"
  started=$SECONDS
  # `go install -v` names each package as it compiles: count them for a progress line.
  if (cd "$staging" && GOBIN="$staging" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
        "$go_bin" install -v "github.com/temporalio/cli/cmd/temporal@$version") 2>&1 | tee "$log" |
      awk -v start="$started" '{ n++; if (n % 100 == 0) { printf "[temporal] ... %d packages compiled\n", n > "/dev/stderr"; fflush("/dev/stderr") } }'
  then
    if works "$staging/temporal"; then
      mv "$staging/temporal" "$cached"
      rm -rf "$staging"
      say "Built $("$cached" --version) in $((SECONDS - started))s."
      echo "$cached"; exit 0
    fi
  fi
  say "Building $version failed; last lines of $log:"
  tail -n 15 "$log" >&2 || true
done
say "Could not build the Temporal CLI (tried ${versions[*]}). See the logs in $cache_dir."
exit 1
