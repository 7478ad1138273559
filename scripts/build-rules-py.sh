#!/usr/bin/env bash
# Builds every Python rule in example-rules/ (a directory with an app.py) to a
# component, target/wasm32-wasip2/rules/rule_<name>.wasm (dashes become
# underscores; CARGO_TARGET_DIR is honoured), with componentize-py, after its
# native unit tests, the Python SDK's and the template's pass.
#
# Keeps a virtualenv in .venv-rules-py/ with the pinned componentize-py
# (sdk/python/requirements-build.txt), the bindings generated from wit/ (world
# `rule`) and the SDK on its path, so `.venv-rules-py/bin/python -m unittest`
# works in a rule's directory. Does nothing for a rule whose inputs (wit/, the
# SDK, the rule, the pinned version, this script) have not changed since its
# last build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.venv-rules-py"
requirements=sdk/python/requirements-build.txt
python=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ left in the source tree

die() {
  echo "build-rules-py: error: $*" >&2
  exit 1
}

# --- Python, venv and pip ---------------------------------------------------
if ! command -v "$python" >/dev/null 2>&1; then
  die "$python not found: install Python 3.11 or newer with its venv and pip modules" \
      "(Debian/Ubuntu: apt-get install python3 python3-venv python3-pip), or set PYTHON"
fi
if ! new_enough=$("$python" -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null); then
  die "could not run $python: install Python 3.11 or newer, or set PYTHON to one"
fi
if [ "$new_enough" != 1 ]; then
  die "$("$python" --version 2>&1) is too old: Python rules need 3.11 or newer" \
      "(the generated bindings use typing.Self); set PYTHON to a newer one"
fi

stamp="$venv/.twinsync-requirements"
if ! { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; }; then
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -m venv "$venv"; then
      rm -rf "$venv"
      die "could not create a virtualenv with '$python -m venv':" \
          "install the venv and pip modules (Debian/Ubuntu: apt-get install python3-venv python3-pip)"
    fi
  fi
  if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    die "pip is missing in $venv: install the pip module" \
        "(Debian/Ubuntu: apt-get install python3-pip python3-venv), remove $venv and run this again"
  fi
  echo "build-rules-py: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
    die "pip could not install $requirements (it needs access to PyPI)"
  cp "$requirements" "$stamp"
fi
componentize="$venv/bin/componentize-py"

# --- Where the components go ------------------------------------------------
if command -v cargo >/dev/null 2>&1; then
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    grep -o '"target_directory":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/')
else
  target_dir=${CARGO_TARGET_DIR:-$root/target}
fi
out="$target_dir/wasm32-wasip2/rules"
mkdir -p "$out"

# --- Content hash of files (names and bytes) --------------------------------
hash_files() {
  find "$@" -type f \( -name '*.py' -o -name '*.wit' -o -name '*.txt' -o -name '*.sh' \) \
    -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

# --- Bindings for native tests, and the SDK on the venv's path --------------
bindings="$venv/bindings"
wit_hash=$( { hash_files wit; cat "$requirements"; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$bindings/.wit-hash" 2>/dev/null || true)" != "$wit_hash" ]; then
  rm -rf "$bindings"
  "$componentize" -q -d wit -w rule bindings "$bindings"
  echo "$wit_hash" >"$bindings/.wit-hash"
fi
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n%s\n' "$root/sdk/python" "$bindings" >"$site_packages/twinsync-rules-dev.pth"

# --- Each rule ----------------------------------------------------------------
shared_hash=$( { hash_files wit sdk/python scripts/build-rules-py.sh; } | sha256sum | cut -d' ' -f1)
sdk_tested=no
status=0
built=()
for app in example-rules/*/app.py; do
  [ -f "$app" ] || continue
  dir=$(dirname "$app")
  name=$(basename "$dir")
  file="$out/rule_${name//-/_}.wasm"
  inputs=$( { echo "$shared_hash"; hash_files "$dir"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$file" ] && [ "$(cat "$file.inputs" 2>/dev/null || true)" = "$inputs" ]; then
    built+=("$name")
    continue
  fi

  if [ "$sdk_tested" = no ]; then
    echo "build-rules-py: testing the Python SDK" >&2
    (cd sdk/python && "$venv/bin/python" -m unittest discover -s tests 2>&1) ||
      die "the Python SDK's tests failed"
    (cd sdk/python/template && "$venv/bin/python" -m unittest 2>&1) ||
      die "the Python rule template's tests failed"
    sdk_tested=yes
  fi
  echo "build-rules-py: testing $name" >&2
  if ! (cd "$dir" && "$venv/bin/python" -m unittest 2>&1); then
    echo "build-rules-py: error: $name's tests failed; not built" >&2
    status=1
    continue
  fi

  echo "build-rules-py: building $name" >&2
  rm -f "$file.inputs"
  # componentize-py finds the app in the rule's directory and the SDK by -p; it
  # generates the bindings itself. Written beside, then renamed: a node watching
  # the file never reads half of it.
  if ! "$componentize" -q -d wit -w rule componentize app -p "$dir" -p sdk/python -o "$file.tmp"; then
    rm -f "$file.tmp"
    echo "build-rules-py: error: componentize-py could not build $name" >&2
    status=1
    continue
  fi
  # A component starts with the wasm magic and layer 1 (bytes 0d 00 01 00), a core module with version 1.
  header=$(od -An -tx1 -N8 "$file.tmp" | tr -d ' \n')
  if [ "$header" != "0061736d0d000100" ]; then
    rm -f "$file.tmp"
    echo "build-rules-py: error: what componentize-py built for $name is not a wasm component" >&2
    status=1
    continue
  fi
  mv -f "$file.tmp" "$file"
  echo "$inputs" >"$file.inputs"
  built+=("$name")
done

if [ ${#built[@]} -gt 0 ]; then
  echo "python rule components in $out:"
  for name in "${built[@]}"; do
    file="$out/rule_${name//-/_}.wasm"
    printf '  %-28s %8d bytes  %s\n' "$name" "$(wc -c <"$file")" "$file"
  done
fi
exit $status
