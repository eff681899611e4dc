#!/usr/bin/env node
// `npm run demo`: build the browser demo and serve it on http://127.0.0.1:PORT/ (a secure origin, so WebGPU
// is allowed). Usage: node scripts/serve-demo.mjs [--port 8080 (0: any free port)] [--host 127.0.0.1]
// [--out build/demo] [--no-build]. Prints one line `sparsecast demo: URL` on stdout when ready.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { buildDemo } from './build-demo.mjs';

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const host = flag('host', '127.0.0.1');
const wanted = Number(flag('port', process.env.PORT ?? '8080'));
const dir = argv.includes('--no-build') ? resolve(flag('out', 'build/demo')) : await buildDemo(flag('out', undefined));

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
};

const server = createServer((req, res) => {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end('bad request');
    return;
  }
  const file = resolve(dir, `.${path === '/' ? '/index.html' : path}`);
  if (!file.startsWith(dir + sep) || !(extname(file) in MIME)) {
    res.writeHead(404).end('not found');
    return;
  }
  readFile(file).then(
    // Cross-origin isolation (COOP + COEP) lets the training worker share wasm memory with its own kernel
    // threads (SharedArrayBuffer); everything the demo loads is same-origin, so nothing else changes.
    (body) => res.writeHead(200, {
      'content-type': MIME[extname(file)], 'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    }).end(body),
    () => res.writeHead(404).end('not found'),
  );
});

function listen(port) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server.address().port));
  });
}

let port;
try {
  port = await listen(wanted);
} catch (e) {
  if (e.code !== 'EADDRINUSE' || wanted === 0) throw e;
  console.error(`port ${wanted} is busy; using a free one`);
  port = await listen(0);
}
console.log(`sparsecast demo: http://${host}:${port}/`);
const close = () => server.close(() => process.exit(0));
process.on('SIGINT', close);
process.on('SIGTERM', close);
