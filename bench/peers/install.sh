#!/usr/bin/env bash
# Fetches the archiver benchmark's JVM peers (bench/peers/pom.xml) into .cache/bench-peers/libs and
# builds the gzip peer (bench/peers/gzip-sink, FileStreamSink through gzip) into a jar beside them.
# Idempotent: redone only when the pom or the sources changed (a stamp holds their hash). Needs
# Java 17+ and Maven.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.cache/bench-peers"
pom="$root/bench/peers/pom.xml"
src="$root/bench/peers/gzip-sink"
hash=$( (cat "$pom"; find "$src" -type f | sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$hash" ]; then exit 0; fi
command -v mvn >/dev/null 2>&1 || { echo "bench peers: Maven (mvn) is needed, e.g. 'apt-get install maven'" >&2; exit 1; }
echo "bench peers: fetching Kafka Connect 4.1 and kafka-tools with Maven (first run only)..."
rm -rf "$dir"
mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir/libs" -DincludeScope=runtime
javac --release 17 -nowarn -cp "$dir/libs/*" -d "$dir/gzip-sink" $(find "$src" -name '*.java')
cp -r "$src/META-INF" "$dir/gzip-sink/"
jar cf "$dir/libs/kdp-bench-gzip-sink.jar" -C "$dir/gzip-sink" .
echo "$hash" > "$dir/.stamp"
