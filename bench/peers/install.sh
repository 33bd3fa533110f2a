#!/usr/bin/env bash
# Fetches the archiver benchmark's JVM peers (bench/peers/pom.xml) into .cache/bench-peers/libs.
# Idempotent: redone only when the pom changed (a stamp holds its hash). Needs Java 17+ and Maven.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.cache/bench-peers"
pom="$root/bench/peers/pom.xml"
hash=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$hash" ]; then exit 0; fi
command -v mvn >/dev/null 2>&1 || { echo "bench peers: Maven (mvn) is needed, e.g. 'apt-get install maven'" >&2; exit 1; }
echo "bench peers: fetching Kafka Connect 4.1 and kafka-tools with Maven (first run only)..."
rm -rf "$dir"
mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir/libs" -DincludeScope=runtime
echo "$hash" > "$dir/.stamp"
