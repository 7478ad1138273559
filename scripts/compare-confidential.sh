#!/usr/bin/env bash
# Usage: scripts/compare-confidential.sh py|js
#
# Runs the Python or JavaScript `confidential` component and the Rust one through the
# real host (`twinsync rules test`) on the same inputs and configs, and fails unless
# every answer is the same: the same JSON byte for byte, or the same error message.
# Prints the fuel and memory each call used and the wall time of each run.
#
# Needs target/debug/twinsync (cargo build -p twinsync) and the components
# (scripts/build-rules.sh). The first run of a new build compiles it (10 to 25 s); the
# others load it from the compile cache `rules test` keeps.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

lang=${1:-}
case "$lang" in
  py | js) ;;
  *) echo "usage: $0 py|js" >&2; exit 2 ;;
esac

target_dir=${CARGO_TARGET_DIR:-$root/target}
twinsync=${TWINSYNC:-$target_dir/debug/twinsync}
rust="$target_dir/wasm32-wasip2/rules/rule_confidential.wasm"
other="$target_dir/wasm32-wasip2/rules/rule_confidential_$lang.wasm"
for f in "$twinsync" "$rust" "$other"; do
  [ -f "$f" ] || { echo "error: $f is missing: run cargo build -p twinsync and scripts/build-rules.sh" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An issue that exercises the redactor: case folding beyond ASCII, characters outside
# the BMP (one code point, two UTF-16 units), a term inside a longer one, ADF with and
# without a term, wiki markup, internal comments, custom fields of every kind.
cat >"$work/tricky.json" <<'EOF'
{
  "key": "ACME-7", "id": "7", "project": "ACME", "issue_type": "Task",
  "summary": "ACME Corp, acme corp and Acme: İstanbul office, STRASSE vs Straße, ΣΑΣ σας, Café CAFÉ, 𐐀𐐨 😀x😀",
  "description": {
    "text": "Contact acme-corp@example.com; the İSTANBUL team (istanbul) reported it. 𐐨𐐨 and 𐐀𐐀 😀😀",
    "adf": "{\"type\":\"doc\",\"content\":[{\"type\":\"text\",\"text\":\"nothing to hide\"}]}",
    "wiki": "*ACME CORP* in İstanbul, KELVIN (K) k"
  },
  "status": "Open", "priority": null, "labels": ["acme", "ops"], "components": ["Web"],
  "assignee": {"name": "ada", "display_name": "Ada"},
  "reporter": {"account_id": "acc-bob", "email": ""},
  "due_date": "2027-01-01", "parent": "ACME-1",
  "comments": [
    {"id": "1", "body": {"text": "Acme asked", "adf": "{\"text\":\"ACME asked\"}"}, "internal": false,
     "created": "2026-11-01T10:00:00.000+0000", "updated": "2026-11-01T10:00:00.000+0000"},
    {"id": "2", "body": {"text": "internal note about ACME"}, "internal": true,
     "created": "2026-11-01T10:00:00.000+0000", "updated": "2026-11-01T10:00:00.000+0000"},
    {"id": "3", "body": {"text": "café É 😀", "wiki": "_CAFÉ_"}, "internal": false,
     "created": "2026-11-01T10:00:00.000+0000", "updated": "2026-11-01T10:00:00.000+0000"}
  ],
  "attachments": [{"id": "9", "filename": "a.txt", "mime_type": "text/plain", "size": 1, "created": "2026-11-01T10:00:00.000+0000"}],
  "custom_fields": [
    {"id": "customfield_1", "name": "Customer", "value": {"text": "ACME"}},
    {"id": "customfield_2", "name": "Points", "value": {"number": 0.1}},
    {"id": "customfield_3", "name": "Owner", "value": {"users": [{"name": "x"}]}},
    {"id": "customfield_4", "name": "", "value": null},
    {"id": "customfield_5", "name": "Tags", "value": {"choices": ["a", "b"]}},
    {"id": "customfield_6", "name": "Raw", "value": {"json": "{\"k\":[1,2]}"}},
    {"id": "customfield_7", "name": "Notes", "value": {"rich": {"text": "ACME", "wiki": "*ACME*"}}},
    {"id": "customfield_8", "name": "Flag", "value": {"flag": false}},
    {"id": "customfield_9", "name": "Start", "value": {"datetime": "2026-11-01T10:00:00.000+0000"}}
  ],
  "created": "2026-11-01T08:00:00.000+0000", "updated": "2026-11-02T08:00:00.000+0000"
}
EOF
echo '{"summary": "no issue type here"}' >"$work/bare.json"
sed 's/"key": "ACME-7",/"key": "ACME-7", "security_level": "Confidential",/' "$work/tricky.json" >"$work/held.json"

cases=0
failed=0
rule_name='s/rule rule_confidential(_py|_js)?\.wasm \(version [0-9a-f]+\)/rule RULE/'
# run NAME ARGS...: one `rules test` call on each component, answers compared.
run() {
  local name=$1
  shift
  local which t0 t1
  for which in rust "$lang"; do
    local rule=$rust
    [ "$which" = "$lang" ] && rule=$other
    t0=$(date +%s%N)
    "$twinsync" rules test "$rule" "$@" >"$work/$name.$which.out" 2>"$work/$name.$which.err" || true
    t1=$(date +%s%N)
    local fuel memory
    fuel=$(sed -n 's/.* used \([0-9]*\) fuel.*/\1/p' "$work/$name.$which.err")
    memory=$(sed -n 's/.* used [0-9]* fuel and \([0-9.]*\) MiB of memory$/\1/p' "$work/$name.$which.err")
    printf '  %-22s %-5s %6d ms  %10s fuel  %6s MiB\n' "$name" "$which" $(((t1 - t0) / 1000000)) \
      "${fuel:--}" "${memory:--}"
    # The rule's file name, version, fuel and memory differ between the two; the rest must not.
    # (A skip is printed as JSON naming the rule.)
    sed -E "$rule_name" "$work/$name.$which.out" >"$work/$name.$which.json"
    grep -v ' used [0-9]* fuel' "$work/$name.$which.err" | sed -E "$rule_name" >"$work/$name.$which.msg" || true
  done
  cases=$((cases + 1))
  if cmp -s "$work/$name.rust.json" "$work/$name.$lang.json" &&
     cmp -s "$work/$name.rust.msg" "$work/$name.$lang.msg"; then
    echo "  $name: same answer: $(head -c 150 "$work/$name.rust.json" | tr -s ' \n' ' ')$(
      [ -s "$work/$name.rust.msg" ] && printf '; %s' "$(head -c 150 "$work/$name.rust.msg")")"
  else
    failed=$((failed + 1))
    echo "  $name: DIFFERENT" >&2
    diff "$work/$name.rust.json" "$work/$name.$lang.json" >&2 || true
    diff "$work/$name.rust.msg" "$work/$name.$lang.msg" >&2 || true
  fi
}

sample=example-rules/samples/issue.json
run out-default --issue "$sample"
run out-redacted --issue "$sample" \
  --config "redact.fields=Assignee, due date, TEAM, customfield_10011, labels" \
  --config "redact.words=export, CSV, reports over, worker" --config "redact.marker=███"
run out-tricky --issue "$work/tricky.json" \
  --config "redact.fields= reporter ,Issue Type,　customer, POINTS" \
  --config "redact.words=acme corp, acme, İstanbul, straße, σ, é, nothing, 𐐀, x😀, k"
run out-marker-dollar --issue "$work/tricky.json" --config 'redact.words=acme' --config 'redact.marker=$&$1'
# Config lists are trimmed as Rust trims: U+0085 is white space there, U+FEFF is not.
run out-trim --issue "$work/tricky.json" --config $'redact.words=\u0085acme corp\u0085, \ufeffacme' \
  --config $'redact.fields=\u0085labels, \ufeffcomponents'
run out-level-held --issue "$work/held.json" --config "redact.security-levels=internal, CONFIDENTIAL"
run out-level-any --issue "$work/held.json" --config "redact.security-levels=*"
run out-level-unlisted --issue "$work/held.json" --config "redact.security-levels=Partners"
# Incoming: the Rust rule's own replica of the sample, onto an existing twin and on first sync.
"$twinsync" rules test "$rust" --issue "$sample" >"$work/replica.json" 2>/dev/null
"$twinsync" rules test "$rust" --issue "$work/tricky.json" >"$work/tricky-replica.json" 2>/dev/null
run in-update --issue "$work/replica.json" --incoming --local example-rules/samples/local.json
run in-first --issue "$work/replica.json" --incoming --config project=GLX
run in-tricky --issue "$work/tricky-replica.json" --incoming --config project=GLX
run in-no-project --issue "$work/replica.json" --incoming
run in-no-type --issue "$work/bare.json" --incoming --config project=GLX
run in-type-config --issue "$work/bare.json" --incoming --config project=GLX --config issue-type=Task

echo "$((cases - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
