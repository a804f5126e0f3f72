#!/usr/bin/env node
// The `archiver` bin: runs the TypeScript entry point through tsx's loader, as `npm start` does.
// Everything here runs on Node 24 (docs/local-stack.md): an older `node` on the PATH hands over to the Node 24
// that `npm ci` installed with the repository (the `node` dev dependency).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const node24 = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(node24)) {
    process.stderr.write(
      `archiver: needs Node 24 (this is ${process.version}); run "npm ci" in the repository first\n`,
    );
    process.exit(1);
  }
  const child = spawn(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group; the child decides how to stop.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
