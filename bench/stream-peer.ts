/**
 * Drives the Kafka Streams peer (bench/peers/kafka-streams): builds its jar with `mvn -q package`
 * when it is missing or older than the peer's sources (cached in target/), runs one job as a child
 * process (`java -jar …`) and reads the JSON line it prints last.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StreamJob } from './stream-jobs.ts';

const PEER_DIR = fileURLToPath(new URL('./peers/kafka-streams/', import.meta.url));
const JAR = join(PEER_DIR, 'target', 'kafka-streams-peer.jar');

/** What the peer prints for one job. */
export interface PeerResult {
  readonly job: StreamJob;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly startupSeconds: number;
  readonly processingRecordsPerSec: number;
}

/** Options of one peer run. */
export interface PeerRunOptions {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  readonly job: StreamJob;
  readonly appId: string;
  readonly windowMs: number;
  readonly commitMs: number;
  readonly maxPollRecords: number;
  /** Extra JVM flags (e.g. -Xmx). */
  readonly jvmArgs?: readonly string[];
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'target') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the peer's jar unless target/ holds one newer than its sources; returns its path. */
export function buildPeer(say: (line: string) => void): string {
  if (existsSync(JAR) && statSync(JAR).mtimeMs >= newestSource(PEER_DIR)) return JAR;
  say('building the Kafka Streams peer (mvn -q package)…');
  const r = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: PEER_DIR, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`cannot run mvn (is Maven installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`mvn package failed in ${PEER_DIR}:\n${r.stdout}${r.stderr}`);
  return JAR;
}

/** Runs one job of the peer to completion and returns its figures. */
export function runPeer(jar: string, o: PeerRunOptions): Promise<PeerResult> {
  const args = [
    ...(o.jvmArgs ?? []),
    '-jar',
    jar,
    '--brokers', o.brokers,
    '--input', o.input,
    '--output', o.output,
    '--job', o.job,
    '--app-id', o.appId,
    '--window-ms', String(o.windowMs),
    '--commit-ms', String(o.commitMs),
    '--max-poll-records', String(o.maxPollRecords),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8_000)));
    child.on('error', (error) => reject(new Error(`cannot run java: ${error.message}`)));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`Kafka Streams peer (${o.job}) exited with ${code}:\n${stdout.slice(-4_000)}${stderr}`));
        return;
      }
      resolve(JSON.parse(last) as PeerResult);
    });
  });
}
