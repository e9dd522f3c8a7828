#!/usr/bin/env bash
# Build the training image without a registry: a minimal root filesystem holding only the shared libraries that
# the project's Python, its standard-library extensions and its site-packages link against (found with ldd), plus
# /bin/sh, imported with `docker import`. The interpreter, the virtualenv and the source tree are not copied: the
# Docker launcher mounts them read-only at the same paths (see tests/test_docker.py). With a registry, build the
# repo's Dockerfile instead.
#
#   scripts/docker_local_image.sh [IMAGE] [PYTHON]     (default: rlvr-assets-train:local .venv/bin/python)
set -euo pipefail
IMAGE=${1:-rlvr-assets-train:local}
PYTHON=${2:-.venv/bin/python}

base_prefix=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
prefix=$("$PYTHON" -c 'import sys; print(sys.prefix)')
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

{
  find "$base_prefix" "$prefix" -name '*.so*' -type f
  readlink -f "$("$PYTHON" -c 'import sys; print(sys.executable)')"
  readlink -f /bin/sh
} | sort -u | { xargs -r ldd 2>/dev/null || true; } \
  | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 ~ /ld-linux/ {print $1}' \
  | grep -v -e "^$base_prefix/" -e "^$prefix/" | sort -u > "$rootfs.libs"

mkdir -p "$rootfs"/{bin,tmp,etc,lib64,usr/lib/x86_64-linux-gnu} "$rootfs/$(dirname "$base_prefix")" "$rootfs/$(dirname "$prefix")"
chmod 1777 "$rootfs/tmp"
while read -r lib; do
  real=$(readlink -f "$lib")
  for path in "$lib" "$real"; do
    mkdir -p "$rootfs$(dirname "$path")"
    cp -n "$real" "$rootfs$path" 2>/dev/null || true
  done
done < "$rootfs.libs"
rm -f "$rootfs.libs"
cp "$(readlink -f /bin/sh)" "$rootfs/bin/sh"
printf 'root:x:0:0:root:/tmp:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/usr/local/lib\n' > "$rootfs/etc/ld.so.conf"
ldconfig -r "$rootfs" 2>/dev/null || true

tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV HOME=/tmp' \
  --change 'WORKDIR /tmp' \
  - "$IMAGE" > /dev/null
echo "$IMAGE: $(du -sh "$rootfs" | cut -f1) root filesystem; mount $base_prefix and $prefix read-only to run it"
