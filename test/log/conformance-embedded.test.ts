/** Runs the log conformance suite against the embedded backend, each log in a fresh temp directory. */
import { after } from 'node:test';
import { openLog } from '../../src/log/index.ts';
import { tempDir } from '../helpers.ts';
import { runConformance } from './conformance.ts';

const dirs: { remove(): Promise<void> }[] = [];
after(async () => {
  for (const dir of dirs) await dir.remove();
});

runConformance('embedded', async () => {
  const dir = await tempDir('sluice-conformance-');
  dirs.push(dir);
  return openLog({ backend: 'embedded', dir: dir.path });
});
