#!/usr/bin/env bash
# Runs on a GPU machine with no Node and no registry (docs/gpu.md "Measuring on a GPU machine"): unpacks what
# scripts/gpu-bundle.sh packed (with python3 alone), finds the Vulkan loader and the NVIDIA Vulkan driver, and runs
# `hourglass bench --engines webgpu,pytorch` (PyTorch on CUDA) on small and paper2 in one run, side by side.
#
#   bash .gpu/node/gpu-bench.sh stage  only unpack Node (the first of two transfers: .gpu/node travels alone)
#   bash .gpu/app/gpu-bench.sh         unpack the rest and measure; results in $OUT (or .gpu/results)
# Environment: CONFIGS (default small,paper2), STEPS (default 10), HOURGLASS_BENCH_ARGS (more bench flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
G=.gpu
RUN=$G/run
RESULTS=${OUT:-$G/results}
mkdir -p "$RUN" "$RESULTS"
die() { echo "gpu-bench: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "needs python3"
unxz() { python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; }

if [ ! -x "$RUN/node" ]; then
  [ -f "$G/node/node.xz" ] || die "$G/node/node.xz is not here: carry .gpu/node first (made by scripts/gpu-bundle.sh)"
  unxz "$G/node/node.xz" "$RUN/node.part" && chmod +x "$RUN/node.part" && mv "$RUN/node.part" "$RUN/node"
fi
"$RUN/node" --version
if [ "${1:-}" = stage ]; then echo "gpu-bench: Node unpacked in $RUN; now carry .gpu/app and run bash .gpu/app/gpu-bench.sh"; exit 0; fi

[ -f "$G/app/hourglass-gpu.tar.xz" ] || die "$G/app/hourglass-gpu.tar.xz is not here: carry .gpu/app"
rm -rf "$RUN/app"
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$G/app/hourglass-gpu.tar.xz" "$RUN/app"
APP=$RUN/app

# Vulkan: the loader (bundled when the machine has none) and a driver manifest for the NVIDIA driver.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then export LD_LIBRARY_PATH="$PWD/$APP/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && { export VK_DRIVER_FILES=$f; break; }
  done
  if [ -z "${VK_DRIVER_FILES:-}" ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0 '; then
    # The NVIDIA driver's Vulkan entry points live in libGLX_nvidia; a manifest naming it is all the loader needs.
    echo '{"file_format_version": "1.0.0", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3.0"}}' > "$RUN/nvidia_icd.json"
    export VK_DRIVER_FILES=$PWD/$RUN/nvidia_icd.json
  fi
fi
echo "gpu-bench: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
command -v nvidia-smi >/dev/null && nvidia-smi -L || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' || true

HG=("$RUN/node" "$APP/dist/src/bench/hourglass.mjs")
"${HG[@]}" doctor 2>&1 | tee "$RESULTS/doctor.txt"
grep -q '^  webgpu     loads' "$RESULTS/doctor.txt" || die "webgpu does not load here (doctor says why, above); the bench would measure PyTorch alone"
# shellcheck disable=SC2086
"${HG[@]}" bench --engines webgpu,pytorch --configs "${CONFIGS:-small,paper2}" --steps "${STEPS:-10}" --workers 4 ${HOURGLASS_BENCH_ARGS:-} 2>&1 | tee "$RESULTS/bench.txt"
echo "gpu-bench: results in $RESULTS"
