#!/usr/bin/env node
// Launcher of the `sluice` command. In the repository it runs the TypeScript sources directly
// (Node 24 strips the types); in the published package it runs the compiled dist/ files.
// Kept as plain JavaScript that old Node versions can parse, so that they get a clear message.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= 24)) {
  process.stderr.write(
    `Sluice needs Node.js 24; this is Node.js ${process.versions.node}.\n` +
      'Run it through npm (npx sluice …) so the node in node_modules is used.\n',
  );
  process.exit(1);
}

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(source) ? source.href : compiled.href);
