// The browser page's default backend: the fastest that works, in the order measured (a software-emulated GPU after wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastestBrowserBackend, type BrowserBackend } from '../../src/backend/browser.js';

const b = (name: BrowserBackend['name'], works: boolean, emulated = false): BrowserBackend => ({ name, works, emulated, note: '' });

test('a hardware GPU backend first, wasm before a software-emulated GPU, emulated webgl before cpu before emulated webgpu', () => {
  assert.equal(fastestBrowserBackend([b('webgpu', true), b('webgl', true), b('wasm', true), b('cpu', true)])?.name, 'webgpu');
  assert.equal(fastestBrowserBackend([b('webgpu', false), b('webgl', true), b('wasm', true), b('cpu', true)])?.name, 'webgl');
  assert.equal(fastestBrowserBackend([b('webgpu', true, true), b('webgl', true, true), b('wasm', true), b('cpu', true)])?.name, 'wasm');
  assert.equal(fastestBrowserBackend([b('webgpu', true, true), b('webgl', true, true), b('wasm', false), b('cpu', true)])?.name, 'webgl');
  assert.equal(fastestBrowserBackend([b('webgpu', true, true), b('webgl', false), b('wasm', false), b('cpu', true)])?.name, 'cpu');
  assert.equal(fastestBrowserBackend([b('webgpu', true, true), b('webgl', false), b('wasm', false), b('cpu', false)])?.name, 'webgpu');
  assert.equal(fastestBrowserBackend([b('webgpu', false), b('webgl', false), b('wasm', false), b('cpu', false)]), null);
});
