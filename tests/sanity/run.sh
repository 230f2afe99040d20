#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection under ansible_collections/wavedrain/kvm.
# Runs in the project venv (no --venv/--docker: those download a pip bootstrap we cannot reach).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$ROOT/build/sanity/ansible_collections/wavedrain/kvm"
rm -rf "$ROOT/build/sanity"
mkdir -p "$WORK"
# Only what git tracks or would track: no venv, no build output.
cd "$ROOT"
git ls-files --cached --others --exclude-standard -z | while IFS= read -r -d '' file; do
  if [ -e "$file" ]; then cp --parents -t "$WORK" "$file"; fi    # skip files deleted but not committed
done
# ansible-test lints our shell scripts with shellcheck, and only warns when it is missing.
if ! command -v shellcheck >/dev/null; then
  if ! { apt-get update -qq && apt-get install -y -qq shellcheck; } >/dev/null 2>&1; then
    echo "warning: shellcheck could not be installed; ansible-test will skip it" >&2
  fi
fi
# Seed ansible-test's pip bootstrap cache with an offline stand-in.
PIP_VERSION="$("$ROOT/.venv/bin/python" -c 'from ansible_test._internal.python_requirements import PIP_VERSION as v; print(v)' 2>/dev/null || echo 25.2)"
mkdir -p "$HOME/.ansible/test/cache"
cp "$ROOT/tests/sanity/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
"$ROOT/.venv/bin/pip" download -q --no-deps -d "$HOME/.ansible/test/cache/get_pip_wheels" "pip==$PIP_VERSION"
cd "$WORK"
git init -q . && git add -A >/dev/null
"$ROOT/.venv/bin/ansible-test" sanity --local --python 3.12 --color no \
  "$@"
