#!/usr/bin/env bash
# Keeps a build cache under a size: when DIR holds more than CAP_GIB GiB it
# is emptied (the next build starts from scratch). Cargo keeps a path
# crate's artifacts per source path, so a cache shared by fresh clones
# grows with every clone; a long-lived build machine would fill its disk.
# Usage: cap-target.sh DIR CAP_GIB
set -euo pipefail
dir="$1"
cap_gib="$2"
[ -d "$dir" ] || exit 0
used_gib=$(du -s --block-size=1G "$dir" | cut -f1)
if [ "$used_gib" -gt "$cap_gib" ]; then
  echo "build cache $dir holds ${used_gib} GiB, more than ${cap_gib} GiB: emptied, this build starts from scratch"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
