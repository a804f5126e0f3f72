#!/usr/bin/env node
// The `archiver` bin: runs the TypeScript entry point through tsx's loader, as `npm start` does.
// Everything here runs on Node 24 (docs/local-stack.md). On an older `node` it says so in one line and exits 1,
// rather than start: `npx archiver` there also buries every answer under npm's engine warnings, and
// `npm run --silent archiver -- …` runs the same CLI quietly on the Node 24 that `npm ci` installed
// with the repository (npm puts node_modules/.bin, holding the `node` dev dependency, first on the
// PATH of every script).
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `archiver needs Node ${REQUIRED_MAJOR} or later, and this is ` +
      `Node ${process.version}: run it as "npm run --silent archiver ` +
      `-- <command>" in the repository (after "npm ci"), or put Node ` +
      `${REQUIRED_MAJOR} first on your PATH\n`,
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
