// Helpers of the webgpu tests: Dawn pointed at a software Vulkan device (SwiftShader, from Debian's chromium) unless
// the environment names a driver already, then load-or-skip. HOURGLASS_REQUIRE_WEBGPU=1 (CI) turns a skip into a failure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { loadWebgpuBackend, SWIFTSHADER_ICD, webgpuDeviceInfo } from '../../src/backend/webgpu/dawn.js';

// Vulkan reads these when Dawn creates its instance (on load below): set them first. A machine with a real GPU can
// test on it instead with HOURGLASS_WEBGPU_TEST_DEVICE=hardware.
if (process.env['HOURGLASS_WEBGPU_TEST_DEVICE'] !== 'hardware' && !process.env['VK_ICD_FILENAMES'] && !process.env['VK_DRIVER_FILES'] && existsSync(SWIFTSHADER_ICD)) {
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
}

const loaded = await loadWebgpuBackend();
const required = process.env['HOURGLASS_REQUIRE_WEBGPU'] === '1';

/** `skip` option for node:test: the reason webgpu is unavailable, unless HOURGLASS_REQUIRE_WEBGPU=1. */
export const SKIP_WEBGPU: string | false = loaded.ok || required ? false : `webgpu unavailable: ${loaded.ok ? '' : loaded.reason}`;
if (SKIP_WEBGPU) process.stderr.write(`skipping the webgpu tests: ${SKIP_WEBGPU}\n`);

export function requireWebgpu(): void {
  if (!loaded.ok) assert.fail(`webgpu required (HOURGLASS_REQUIRE_WEBGPU=1) but unavailable: ${loaded.reason}`);
  assert.ok(webgpuDeviceInfo(), 'the webgpu device is named once loaded');
}
