#!/usr/bin/env bash
# Assemble the one folder a bare GPU machine needs besides the repo's tracked files: run HERE (a CPU machine
# with the dev dependencies installed), once per change of the sources; scripts/gpu/run.sh uses it THERE.
#
#   bash scripts/gpu/prepare.sh [DIR]        DIR defaults to .gpu (in .gitignore), directly in the repo root
#
# DIR gets:
#   node.xz                         this Node binary (process.execPath), xz-compressed: ~99 MB raw busts the
#                                   64 MiB the device tool carries, ~24 MB compressed fits (run.sh unpacks it)
#   node_modules/webgpu/            the `webgpu` package's loader (index.js, package.json) and only its
#                                   linux-x64 Dawn addon, as dist/linux-x64/dawn.node.xz (21 MB -> ~5 MB)
#   debs/*.deb                      the Vulkan loader and GL dispatch libraries (libvulkan1, libglvnd0, ...),
#                                   which a bare CUDA image lacks; the recipe of the device tool's README
#   conformance.mjs, bench.mjs      the conformance suite and bench driver bundled to plain JS (bundle.mjs):
#                                   no tsx, esbuild or other node_modules needed there
#   manifest.json                   what went in, for the run's summary
# then measures what would travel (budget.sh) and fails when it is over 64 MiB.
#
# Compressing Node takes about a minute on two cores; an unchanged binary is not compressed again.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
dir="${1:-.gpu}"
dir="${dir%/}"
case "$dir" in
  */*|.|..|'') echo "prepare: DIR must be a folder name directly in the repo root (got '$dir')" >&2; exit 2 ;;
esac

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "prepare: '$1' is missing: $2" >&2; exit 1; }
}
need node "the Node binary to carry (Node >= 20)"
need xz "xz compresses the Node binary and the Dawn addon (apt-get install xz-utils)"
need apt-get "apt-get downloads the Vulkan loader .debs (a Debian/Ubuntu machine)"
need git "git lists the files that travel"

node_bin="$(node -p 'process.execPath')"
dawn="node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || { echo "prepare: $dawn is missing: run npm install (the webgpu package is a dev dependency)" >&2; exit 1; }
[ -f node_modules/esbuild/package.json ] || { echo "prepare: node_modules/esbuild is missing: run npm install" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "prepare: this machine is $(uname -m); the device is x86-64 and needs x86-64 Node and Dawn builds" >&2; exit 1; }

# The carried Node must run on a bare image: only the C/C++ runtime may come from the system. A distro Node
# linked against a shared libnode / libuv / OpenSSL would not start there.
extra_libs="$(ldd "$node_bin" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libstdc\+\+\.|libgcc_s\.)' || true)"
if [ -n "$extra_libs" ]; then
  echo "prepare: $node_bin needs shared libraries a bare machine lacks: $(echo "$extra_libs" | tr '\n' ' ')" >&2
  echo "prepare: use a self-contained Node build (nodejs.org's linux-x64 tarball)" >&2
  exit 1
fi

mkdir -p "$dir/node_modules/webgpu/dist/linux-x64" "$dir/debs"
# run.sh unpacks next to the compressed files; never carry those unpacked copies (they alone bust the budget).
rm -f "$dir/node" "$dir/node_modules/webgpu/dist/linux-x64/dawn.node"

# xz -9: the smallest output, paid once here; unpacking is fast. A stamp (path, size, mtime) skips the work
# when the source did not change.
compress() {
  local src="$1" dst="$2" stamp
  stamp="$(stat -c '%n %s %Y' "$src")"
  if [ -f "$dst" ] && [ -f "$dst.stamp" ] && [ "$(cat "$dst.stamp")" = "$stamp" ]; then
    echo "prepare: $dst is current"
    return
  fi
  echo "prepare: compressing $src ($(stat -c %s "$src") bytes) -> $dst"
  xz -9 -T0 -c "$src" >"$dst.tmp"
  mv "$dst.tmp" "$dst"
  echo "$stamp" >"$dst.stamp"
}
compress "$node_bin" "$dir/node.xz"
compress "$dawn" "$dir/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$dir/node_modules/webgpu/"

# The Vulkan loader (Dawn dlopens libvulkan.so.1) and libglvnd's dispatch libraries (NVIDIA's Vulkan ICD,
# libGLX_nvidia, links libGLdispatch): the device README's list. This machine's own package lists first; an
# amd64-only list in /tmp when they are missing or stale, as that README does.
debs=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -f "$dir"/debs/*.deb
if ! (cd "$dir/debs" && apt-get download "${debs[@]}" >/dev/null 2>&1); then
  echo "prepare: apt-get download failed with this machine's lists; fetching amd64 lists into /tmp/amd64"
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update >/dev/null
  (cd "$dir/debs" && apt-get "${o[@]}" download "${debs[@]}")
fi
for p in "${debs[@]}"; do
  ls "$dir"/debs/"${p}"_*.deb >/dev/null 2>&1 || { echo "prepare: $p's .deb did not download" >&2; exit 1; }
done

node scripts/build-shaders.mjs >/dev/null
node scripts/gpu/bundle.mjs "$dir"

node -e '
  const fs = require("node:fs");
  const [dir, nodeBin] = process.argv.slice(1);
  const webgpu = JSON.parse(fs.readFileSync(dir + "/node_modules/webgpu/package.json", "utf8")).version;
  const debs = fs.readdirSync(dir + "/debs").filter((f) => f.endsWith(".deb")).sort();
  const m = { node: process.version, node_source: nodeBin, webgpu, debs, prepared: new Date().toISOString() };
  fs.writeFileSync(dir + "/manifest.json", JSON.stringify(m, null, 1) + "\n");
' "$dir" "$node_bin"

bash scripts/gpu/budget.sh "$dir"
echo "prepare: ready; on the device machine: bash scripts/gpu/run.sh   (carry: $dir)"
