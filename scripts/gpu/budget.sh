#!/usr/bin/env bash
# Does what travels to a device machine fit its limit? The device tool copies the repo's tracked files, its
# untracked files that git does not ignore, and the carried folders, and refuses a tree over 64 MiB. This
# measures those three the same way (bytes, not disk blocks) and fails when the sum is over the budget.
#
#   bash scripts/gpu/budget.sh CARRIED_DIR...     (run from anywhere inside the repo)
#   GPU_BUDGET_BYTES=N overrides the limit (default 64 MiB = 67108864 bytes; the test uses a small one).
#
# Prints one line per part and a total; exit 0 when it fits, 1 when over, 2 on bad arguments.
set -euo pipefail

limit="${GPU_BUDGET_BYTES:-67108864}"
if [ "$#" -eq 0 ]; then
  echo "budget: usage: bash scripts/gpu/budget.sh CARRIED_DIR..." >&2
  exit 2
fi
if ! [[ "$limit" =~ ^[0-9]+$ ]]; then
  echo "budget: GPU_BUDGET_BYTES must be a whole number of bytes, got '$limit'" >&2
  exit 2
fi
root="$(git rev-parse --show-toplevel)"
cd "$root"

# Bytes of the files named (NUL-separated on stdin) that exist as regular files; links count as their own
# few bytes, as they travel as links. `stat` per file via xargs keeps this to a handful of processes.
sum_listed() {
  xargs -0 -r stat -c '%s' -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
# Deleted-but-tracked paths are skipped by stat's error (they do not travel).
tracked=$(git ls-files -z --cached | sum_listed)
untracked=$(git ls-files -z --others --exclude-standard | sum_listed)

human() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
printf 'budget: tracked files           %12d bytes (%s)\n' "$tracked" "$(human "$tracked")"
printf 'budget: untracked, not ignored  %12d bytes (%s)\n' "$untracked" "$(human "$untracked")"
total=$((tracked + untracked))
for dir in "$@"; do
  if [ ! -d "$dir" ]; then
    echo "budget: carried folder '$dir' does not exist" >&2
    exit 2
  fi
  # A carried folder that git does not ignore is already in the untracked sum; counting it twice would
  # overstate, and carrying it is pointless, so say so.
  if ! git check-ignore -q "$dir"; then
    echo "budget: '$dir' is not ignored by git: add it to .gitignore (it would travel as untracked files anyway)" >&2
    exit 2
  fi
  bytes=$(find "$dir" \( -type f -o -type l \) -print0 | sum_listed)
  printf 'budget: carried %-15s %12d bytes (%s)\n' "$dir" "$bytes" "$(human "$bytes")"
  total=$((total + bytes))
done
printf 'budget: total                   %12d bytes (%s) of %d (%s)\n' "$total" "$(human "$total")" "$limit" "$(human "$limit")"
if [ "$total" -gt "$limit" ]; then
  echo "budget: OVER by $((total - limit)) bytes: the device tool would refuse this tree; carry less (compress, drop pieces)" >&2
  exit 1
fi
echo "budget: fits, $((limit - total)) bytes to spare"
