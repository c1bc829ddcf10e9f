#!/usr/bin/env bash
# Regenerates the command outputs of docs/guide.md: every `<!-- run: astrolabe ARGS -->` line is
# followed by a ```text block holding what `astrolabe ARGS` prints, run from the repository
# root with the release build. crates/cli/tests/guide_cli.rs checks the blocks against the
# binary, so the guide cannot drift from what the commands print.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p astrolabe-cli --quiet
bin="${CARGO_TARGET_DIR:-target}/release/astrolabe"
doc=docs/guide.md
out="$doc.new"
skipping=0
while IFS= read -r line; do
  if [[ $skipping == 1 ]]; then
    # Skip the old block, up to and including its closing fence.
    [[ "$line" == '```' ]] && skipping=2
    continue
  fi
  if [[ $skipping == 2 && "$line" == '```text' ]]; then
    skipping=1
    continue
  fi
  skipping=0
  printf '%s\n' "$line"
  if [[ "$line" =~ ^'<!-- run: astrolabe '(.*)' -->'$ ]]; then
    read -r -a args <<< "${BASH_REMATCH[1]}"
    echo '```text'
    "$bin" "${args[@]}"
    echo '```'
    skipping=2
  fi
done < "$doc" > "$out"
mv "$out" "$doc"
echo "$doc regenerated"
