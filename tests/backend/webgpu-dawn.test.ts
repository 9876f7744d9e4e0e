// The webgpu loader's judgements that need no GPU: which adapters are software ones and how a device is named, what
// an uncaptured GPU error means for the user, and what is missing when Vulkan cannot offer an adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAdapter, noAdapterReason, uncapturedErrorMessage, vulkanDriverFiles, vulkanProblem } from '../../src/backend/webgpu/dawn.js';

test('adapters: hardware named with vendor and architecture; SwiftShader, llvmpipe, CPU and fallback adapters are software', () => {
  const h200 = describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', adapterType: 'discrete GPU', backendType: 'vulkan' } });
  assert.equal(h200.software, false);
  assert.equal(h200.label, 'NVIDIA H200 hopper (hardware, vulkan discrete GPU)');
  const swiftshader = describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } });
  assert.equal(swiftshader.software, true);
  assert.equal(swiftshader.label, 'SwiftShader driver 5.0.0 (google) swiftshader (software)');
  assert.equal(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software, true);
  assert.equal(describeAdapter({ info: { vendor: 'intel', description: 'Intel Arc', adapterType: 'CPU' } }).software, true);
  assert.equal(describeAdapter({ info: { vendor: 'amd', description: 'Radeon' }, isFallbackAdapter: true }).label, 'Radeon (amd) (software, fallback adapter)');
  assert.equal(describeAdapter({}).label, 'unnamed adapter (hardware)');
});

test('uncaptured GPU errors: out of memory advises a smaller batch; others name their kind and first line', () => {
  class GPUOutOfMemoryError extends Error {}
  class GPUValidationError extends Error {}
  assert.equal(uncapturedErrorMessage(new GPUOutOfMemoryError('Allocation of 4 GB failed')), 'the GPU ran out of memory (Allocation of 4 GB failed): train with a smaller --batch');
  assert.equal(uncapturedErrorMessage(new GPUValidationError('Buffer is invalid\n - While calling Submit')), 'the GPU reported GPUValidationError: Buffer is invalid');
  assert.match(uncapturedErrorMessage({ message: 'Out of memory while allocating' }), /ran out of memory/);
  assert.equal(uncapturedErrorMessage(undefined), 'the GPU reported GPUError');
});

test('Vulkan: a missing loader, named driver files that do not exist, and no driver at all are each one line saying what to install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-vulkan-'));
  try {
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    const empty = { LD_LIBRARY_PATH: '', XDG_CONFIG_DIRS: join(dir, 'none'), XDG_DATA_DIRS: join(dir, 'none'), HOME: dir };
    assert.match(vulkanProblem(empty, []) ?? '', /the Vulkan loader libvulkan\.so\.1 is missing \(apt-get install libvulkan1\)/);
    writeFileSync(join(lib, 'libvulkan.so.1'), '');
    const withLoader = { ...empty, LD_LIBRARY_PATH: lib };
    assert.match(vulkanProblem(withLoader, []) ?? '', /no Vulkan driver is installed \(install the GPU's: .*VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json\)/);
    const icd = join(dir, 'none-such.json');
    assert.match(vulkanProblem({ ...withLoader, VK_ICD_FILENAMES: icd }, []) ?? '', new RegExp(`the Vulkan driver files named by VK_DRIVER_FILES/VK_ICD_FILENAMES \\(${icd}\\) do not exist`));
    writeFileSync(icd, '{}');
    assert.equal(vulkanProblem({ ...withLoader, VK_ICD_FILENAMES: icd }, []), null);
    assert.deepEqual(vulkanDriverFiles({ ...withLoader, VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: '/elsewhere.json' }).found, [icd], 'VK_DRIVER_FILES first');
    const icdDir = join(dir, 'share', 'vulkan', 'icd.d');
    mkdirSync(icdDir, { recursive: true });
    writeFileSync(join(icdDir, 'nvidia_icd.json'), '{}');
    assert.deepEqual(vulkanDriverFiles({ ...withLoader, XDG_DATA_DIRS: join(dir, 'share') }).found, [join(icdDir, 'nvidia_icd.json')]);
    assert.equal(vulkanProblem({ ...withLoader, XDG_DATA_DIRS: join(dir, 'share') }, []), null);
    assert.match(noAdapterReason('linux', { ...withLoader, XDG_DATA_DIRS: join(dir, 'share') }), /the Vulkan driver\(s\) .*nvidia_icd\.json offered no device/);
    assert.match(noAdapterReason('darwin', {}), /Metal on macOS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
