#!/usr/bin/env bash
# Packs what `hourglass bench --engines webgpu,pytorch` needs on a GPU machine that has no Node and no registry
# (docs/gpu.md "Measuring on a GPU machine"): the CLI and the bench's child bundled by esbuild, this machine's Node
# binary (stripped, xz), the `webgpu` package's linux-x64 dawn.node (xz) and the Vulkan loader. Run here, after
# `npm ci && npm run build`; then run scripts/gpu-bench.sh on the GPU machine.
#
# Output, in the repository (ignored by git through .git/info/exclude, so that it travels only when carried):
#   .gpu/node/node.xz               Node (~21 MB): carried on its own, since with the repository it may not fit one transfer
#   .gpu/app/hourglass-gpu.tar.xz   the rest (~7 MB): bundles, package.json, bench/torch-hourglass.py, webgpu with Dawn, lib/
#   .gpu/app/gpu-bench.sh           what runs there (unpacks with python3 alone: xz and tar need not be installed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=.gpu
APP=$OUT/stage

for tool in xz strip; do command -v "$tool" >/dev/null || { echo "gpu-bundle: needs $tool (apt-get install xz-utils binutils)" >&2; exit 1; }; done
[ -f dist/src/cli/main.js ] || { echo "gpu-bundle: run npm run build first" >&2; exit 1; }
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$DAWN" ] || { echo "gpu-bundle: $DAWN missing (npm ci installs the optional package webgpu)" >&2; exit 1; }
VULKAN=$(node -e "import('./dist/src/backend/webgpu/dawn.js').then((m) => console.log(m.vulkanLoaderPath() ?? ''))")
[ -n "$VULKAN" ] || { echo "gpu-bundle: libvulkan.so.1 not found (apt-get install libvulkan1)" >&2; exit 1; }

grep -qxF "/$OUT/" .git/info/exclude 2>/dev/null || echo "/$OUT/" >> "$(git rev-parse --git-path info/exclude)"
rm -rf "$OUT"
mkdir -p "$OUT/node" "$OUT/app" "$APP/dist/src/bench" "$APP/bench" "$APP/lib" "$APP/node_modules/webgpu/dist/linux-x64"

# The bundles sit where dist/src/bench/ files sit, so that the paths they compute from import.meta.url hold:
# ./tfjs-engine.js (the bench's child), ./worker.js (data workers), ../../../bench/torch-hourglass.py (the PyTorch
# peer), ../../../package.json and ../../package.json (the version). sharp (image decoding, a native module with
# its own libvips) is left out: the bench's pipeline rate then says it was not measured. webgpu stays a package.
cat > "$OUT/sharp-stub.js" <<'EOF'
export default function sharp() {
  throw new Error('sharp is not in the GPU bundle (scripts/gpu-bundle.sh): images cannot be decoded here');
}
EOF
BUNDLE=(--bundle --platform=node --format=esm --target=node20 --log-level=warning --external:webgpu --external:@tensorflow/tfjs-node
  --external:msgpackr-extract --alias:sharp="$ROOT/$OUT/sharp-stub.js"
  "--banner:js=import { createRequire as __hgRequire } from 'node:module'; const require = __hgRequire(import.meta.url);")
npx esbuild bin/hourglass.js "${BUNDLE[@]}" --outfile="$APP/dist/src/bench/hourglass.mjs"
npx esbuild dist/src/bench/tfjs-engine.js "${BUNDLE[@]}" --outfile="$APP/dist/src/bench/tfjs-engine.js"
npx esbuild dist/src/data/worker.js "${BUNDLE[@]}" --outfile="$APP/dist/src/bench/worker.js"
node -e "const p = require('./package.json'); process.stdout.write(JSON.stringify({ name: p.name, version: p.version, type: 'module' }) + '\n')" > "$APP/package.json"
cp "$APP/package.json" "$APP/dist/package.json"
cp bench/torch-hourglass.py "$APP/bench/"
cp scripts/gpu-bench.sh "$OUT/app/"
cp scripts/gpu-bench.sh "$OUT/node/" # the first transfer runs it too (gpu-bench.sh stage)

# webgpu: its loader (index.js, package.json) and Dawn, stripped of its symbols.
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$APP/node_modules/webgpu/"
strip -o "$APP/node_modules/webgpu/dist/linux-x64/dawn.node" "$DAWN"
cp -L "$VULKAN" "$APP/lib/libvulkan.so.1"

# Node: the binary running this script, stripped (debug information is most of its size).
strip -o "$OUT/node/node" "$(command -v node)"
xz -9 -T0 -c "$OUT/node/node" > "$OUT/node/node.xz"
rm "$OUT/node/node"
rm "$OUT/sharp-stub.js"

# The bundle must start (its version, and doctor: webgpu through the bundled package), with this Node.
node "$APP/dist/src/bench/hourglass.mjs" --version >/dev/null
node "$APP/dist/src/bench/hourglass.mjs" doctor | grep -q '^  webgpu ' || { echo "gpu-bundle: the bundle's doctor does not list webgpu" >&2; exit 1; }
tar -cJf "$OUT/app/hourglass-gpu.tar.xz" -C "$APP" .
rm -rf "$APP"
du -sh "$OUT/node" "$OUT/app"
echo "gpu-bundle: done. On the GPU machine: carry .gpu/node and run bash .gpu/node/gpu-bench.sh stage; then carry .gpu/app and run bash .gpu/app/gpu-bench.sh"
