#!/usr/bin/env bash
# Installs the real services the tests and the demo run against, into the git-ignored .cache/:
#   .cache/kafka/libs  Apache Kafka broker jars from Maven Central (via services/kafka/pom.xml)
#   .cache/venv        a project-local Python virtual environment with moto and the test helpers of
#                      services/moto/requirements.txt (prometheus_client's text-format parser,
#                      duckdb for reading Parquet files back)
# Idempotent: each part is redone only when its input file changed (a stamp holds its hash).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mkdir -p "$cache"

missing=()
command -v java >/dev/null 2>&1 || missing+=("Java 17+ (java): e.g. 'apt-get install openjdk-17-jre-headless'")
command -v mvn >/dev/null 2>&1 || missing+=("Maven (mvn): e.g. 'apt-get install maven'")
command -v python3 >/dev/null 2>&1 || missing+=("Python 3.10+ (python3): e.g. 'apt-get install python3 python3-venv'")
if [ ${#missing[@]} -gt 0 ]; then
  echo "kdp services: cannot install the test services, missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ -n "$java_major" ] && [ "$java_major" -lt 17 ]; then
  echo "kdp services: Kafka 4.1 needs Java 17 or newer, found Java $java_major" >&2
  exit 1
fi

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

pom="$root/services/kafka/pom.xml"
pom_hash=$(sha256sum "$pom" | cut -d' ' -f1)
if ! stamp_ok "$cache/kafka/.stamp" "$pom_hash"; then
  echo "kdp services: fetching Kafka jars with Maven (first run only)..."
  rm -rf "$cache/kafka"
  mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$cache/kafka/libs" -DincludeScope=runtime
  echo "$pom_hash" > "$cache/kafka/.stamp"
fi

req="$root/services/moto/requirements.txt"
req_hash=$(sha256sum "$req" | cut -d' ' -f1)
# The venv may be shared by several checkouts (git worktrees whose .cache is one folder), each with
# its own requirements: it is only ever added to, never deleted for a stamp that differs, so that one
# checkout never takes away what another one's tests are using. `.stamp` is the older scripts' stamp
# and is left as it is, for them.
if ! stamp_ok "$cache/venv/.stamp-requirements" "$req_hash"; then
  if [ ! -x "$cache/venv/bin/pip" ]; then
    echo "kdp services: creating .cache/venv (first run only)..."
    rm -rf "$cache/venv"
    python3 -m venv "$cache/venv"
  fi
  echo "kdp services: installing services/moto/requirements.txt into .cache/venv..."
  "$cache/venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$req_hash" > "$cache/venv/.stamp-requirements"
fi
echo "kdp services: installed (Kafka jars in .cache/kafka/libs, moto in .cache/venv)"
