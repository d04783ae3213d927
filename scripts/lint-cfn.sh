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
# cfn-lint from PATH, else from the virtual environment npm test sets up (requirements-dev.txt).
cfn_lint=cfn-lint
if ! command -v cfn-lint >/dev/null 2>&1 && [ -x .venv-tools/bin/cfn-lint ]; then cfn_lint=.venv-tools/bin/cfn-lint; fi
echo "cfn-lint over ${#templates[@]} template(s)"
"$cfn_lint" --config-file .cfnlintrc.yaml -- "${templates[@]}"
echo "cfn-lint: no errors or warnings"
