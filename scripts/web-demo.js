#!/usr/bin/env node
// Builds the browser demo into a folder and serves it on localhost (`npm run demo`): web/demo.ts (compiled by
// `npm run build` to dist/web/demo.js) bundled for the browser with esbuild, web/index.html, the sample images, and
// the model exported to TF.js (model.json, weights.bin, hourglass.json).
//
// Usage: node scripts/web-demo.js [--model NAME|PATH] [--out DIR] [--port N] [--build-only]
//   --model      a bundled network's name (lsp14, flic, lsp14-256) or a checkpoint path; default lsp14
//   --out        the folder to build into; default dist/web-demo (replaced as a whole)
//   --port       the port to serve on, localhost only; default 8080 (0: a free port, printed)
//   --build-only build, do not serve
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
  '.json': 'application/json', '.bin': 'application/octet-stream', '.wasm': 'application/wasm', '.jpg': 'image/jpeg', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.md': 'text/markdown; charset=utf-8',
};

function fail(message) {
  console.error(`web-demo: ${message}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      model: { type: 'string', default: 'lsp14' },
      out: { type: 'string', default: join(root, 'dist', 'web-demo') },
      port: { type: 'string', default: '8080' },
      'build-only': { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  fail(`${err.message}\nusage: node scripts/web-demo.js [--model NAME|PATH] [--out DIR] [--port N] [--build-only]`);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0-65535 (0: any free port), got '${args.port}'`);

/** Builds the demo into a temporary sibling of `out`, then swaps it in, so a failed build leaves the last one whole. */
async function build(out) {
  const entry = join(root, 'dist', 'web', 'demo.js');
  if (!existsSync(entry)) fail(`${relative(process.cwd(), entry)} is missing: run npm run build first`);
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    fail('esbuild is not installed: run npm install (it is a development dependency)');
  }
  const { loadModel, exportTfjs, resolveModelPath } = await import('../dist/src/index.js');
  const { PERSON_DETECTOR } = await import('../dist/src/api/models.js');
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'samples'), { recursive: true });
  try {
    const bundle = await esbuild.build({
      entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
      minify: true, outfile: join(tmp, 'demo.js'), logLevel: 'warning',
    });
    if (bundle.errors.length > 0) throw new Error('esbuild failed');
    for (const name of ['index.html', 'favicon.svg']) copyFileSync(join(root, 'web', name), join(tmp, name));
    const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    mkdirSync(join(tmp, 'wasm'));
    for (const name of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, name), join(tmp, 'wasm', name));
    const samples = readdirSync(join(root, 'samples')).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    for (const name of samples) copyFileSync(join(root, 'samples', name), join(tmp, 'samples', name));
    copyFileSync(join(root, 'samples', 'ATTRIBUTION.md'), join(tmp, 'samples', 'ATTRIBUTION.md'));
    writeFileSync(join(tmp, 'samples', 'index.json'), `${JSON.stringify(samples)}\n`);
    // The pose model, and the person detector the page finds people with (src/detect/).
    for (const [path, dir] of [[resolveModelPath(args.model), 'model'], [PERSON_DETECTOR.path, 'detector']]) {
      const { model, checkpoint } = loadModel(path);
      try {
        await exportTfjs(model, join(tmp, dir), { meta: checkpoint.meta, precision: 'float16' });
      } finally {
        model.dispose();
      }
    }
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const bytes = (dir) => readdirSync(dir).reduce((n, f) => n + (statSync(join(dir, f)).isDirectory() ? bytes(join(dir, f)) : statSync(join(dir, f)).size), 0);
  console.log(`built the demo in ${relative(process.cwd(), out) || '.'} (${(bytes(out) / 1e6).toFixed(1)} MB; model ${args.model})`);
}

function serve(dir) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache',
      // cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer)
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(file));
  });
  server.on('error', (err) => fail(err.code === 'EADDRINUSE' ? `port ${port} is in use: pass --port N` : err.message));
  server.listen(port, '127.0.0.1', () => console.log(`serving the demo at http://localhost:${server.address().port}/ (Ctrl-C to stop)`));
}

const out = resolve(args.out);
try {
  await build(out);
} catch (err) {
  fail(err.message);
}
if (!args['build-only']) serve(out);
