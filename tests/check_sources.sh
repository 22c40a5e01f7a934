#!/bin/sh
# What the compiler does not hold the sources to, checked on every test run:
#   - no file includes the same header twice;
#   - each room of the controller, and each program, includes only from the
#     rooms below it (docs/architecture.md, "Rooms");
#   - no source, header, document or script is over 600 lines (STYLE.md 9);
#   - only controller/store/ speaks SQL: no other room of the controller
#     includes the SQLite adapter or reaches for Store::db()
#     (docs/storage.md, "The code").
# Prints one line per offence and exits 1 when there is any.
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2

# The folders a file under each prefix may include from, besides its own
# folder. Longest prefix first; the controller's top sees every room.
allowed() {
  case "$1" in
    common/*) echo "common" ;;
    connectors/*) echo "common connectors" ;;
    agent/*) echo "common agent" ;;
    cli/*) echo "common cli controller/control/control_protocol.h" ;;
    controller/store/*) echo "common controller/store" ;;
    controller/catalog/*) echo "common controller/store controller/catalog" ;;
    controller/deployments/*)
      echo "common connectors controller/store controller/catalog controller/deployments" ;;
    controller/agents/*)
      echo "common connectors controller/store controller/catalog controller/deployments controller/agents" ;;
    controller/control/*)
      echo "common connectors controller/store controller/catalog controller/deployments controller/agents controller/control" ;;
    controller/*) echo "common connectors controller" ;;
    *) echo "*" ;;
  esac
}

status=0
# Prose, scripts and build files are held to the same length.
for f in $(git ls-files '*.md' '*.sh' '*.txt' '*.cmake' '*.yaml' 2>/dev/null); do
  [ -f "$f" ] || continue
  lines=$(wc -l < "$f")
  if [ "$lines" -gt 600 ]; then
    echo "$f: $lines lines (split a file past 600)"
    status=1
  fi
done
files=$(git ls-files '*.h' '*.cpp' 2>/dev/null || find . -name '*.h' -o -name '*.cpp' | sed 's|^\./||')
for f in $files; do
  [ -f "$f" ] || continue
  repeated=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$f" | sed 's/[[:space:]]//g' | sort | uniq -d)
  if [ -n "$repeated" ]; then
    echo "$f: includes more than once: $(echo "$repeated" | tr '\n' ' ')"
    status=1
  fi
  lines=$(wc -l < "$f")
  if [ "$lines" -gt 600 ]; then
    echo "$f: $lines lines (split a file past 600)"
    status=1
  fi
  case "$f" in
    controller/store/*) ;;
    controller/*)
      if grep -qE '(\.|->)db\(\)|#[[:space:]]*include[[:space:]]*"controller/store/sqlite\.h"' "$f"; then
        echo "$f: speaks SQL (only controller/store/ may)"
        status=1
      fi ;;
  esac
  rooms=$(allowed "$f")
  [ "$rooms" = "*" ] && continue
  for header in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
    case "$header" in */*) ;; *) continue ;; esac  # same folder
    ok=0
    for room in $rooms; do
      case "$header" in "$room"/*|"$room") ok=1 ;; esac
    done
    if [ "$ok" -eq 0 ]; then
      echo "$f: may not include \"$header\" (it may include from: $rooms)"
      status=1
    fi
  done
done
exit $status
