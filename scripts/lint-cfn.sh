#!/usr/bin/env bash
# Lints every template the app synthesizes (top-level and inside each stage's nested assembly)
# with cfn-lint, using .cfnlintrc.yaml. Fails on any error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx cdk synth --quiet --output "$out" "$@" >/dev/null
mapfile -t templates < <(find "$out" -name '*.template.json' | sort)
if ((${#templates[@]} == 0)); then
  echo "lint:cfn: synth produced no templates" >&2
  exit 1
fi
echo "cfn-lint over ${#templates[@]} template(s)"
cfn-lint --config-file .cfnlintrc.yaml -- "${templates[@]}"
echo "cfn-lint: no errors or warnings"
