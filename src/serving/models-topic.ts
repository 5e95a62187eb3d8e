/**
 * The `models` topic as serving and the CLI use it: reading it (boot, `sluice models list`) and
 * appending to it (`sluice models publish|rollback`). The contract itself — key naming, the
 * `sluice.rollback` and `sluice.shadow` headers, the acceptance rule, the topic's configuration —
 * is the model layer's (model/models-topic.ts), shared with the trainer (serving's index re-exports
 * its names).
 *
 * Publishing writes the store first (so every instance that reads the descriptor can load its
 * payload), then appends the descriptor here.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import { ensureTopic, type Admin, type Log, type RecordHeaders, type RecordMetadata } from '../log/index.ts';
import { descriptorToJSON, headerFlag, MODELS_TOPIC_CONFIG, ModelHeader, modelRecordHeaders, shadowKey, type ModelDescriptor } from '../model/index.ts';

/** A record of the models topic as serving handles it (a control-stream record has this shape). */
export interface ModelRecord {
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers: RecordHeaders;
  readonly origin: { readonly topic: string; readonly partition: number; readonly offset: number };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Creates the models topic (compacted, 1 partition) unless it exists. */
export async function ensureModelsTopic(admin: Admin, topic: string): Promise<void> {
  await ensureTopic(admin, topic, MODELS_TOPIC_CONFIG);
}

/** Appends `descriptor` to the models topic (as a rollback or a shadow candidate when asked). */
export async function publishDescriptor(
  log: Log,
  topic: string,
  descriptor: ModelDescriptor,
  options: { readonly rollback?: boolean; readonly shadow?: boolean } = {},
): Promise<RecordMetadata> {
  const headers = modelRecordHeaders(options);
  const producer = log.producer({ acks: 'all' });
  try {
    const key = options.shadow === true ? shadowKey(descriptor.name) : descriptor.name;
    const [meta] = await producer.send([{ topic, key: encoder.encode(key), value: encoder.encode(descriptorToJSON(descriptor)), headers }]);
    return meta!;
  } finally {
    await producer.close();
  }
}

/** Reads every record of the models topic, from the earliest offset to the end as it is now. */
export async function readModelsTopic(log: Log, topic: string, timeoutMs = 60_000): Promise<ModelRecord[]> {
  const { partitions } = await log.admin.describeTopic(topic);
  const consumer = log.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  const out: ModelRecord[] = [];
  try {
    const tps = partitions.map((p) => ({ topic, partition: p.partition }));
    await consumer.assign(tps);
    for (const tp of tps) await consumer.seek(tp, 'earliest');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let behind = false;
      for (const p of partitions) if ((await consumer.position({ topic, partition: p.partition })) < p.endOffset) behind = true;
      if (!behind) break;
      if (performance.now() > deadline) {
        throw new SluiceError(ErrorCode.LOG_TIMEOUT, `reading the models topic '${topic}' did not reach its end within ${timeoutMs} ms`, { retriable: true, details: { topic } });
      }
      for (const r of await consumer.poll({ timeoutMs: 100 })) {
        out.push({ key: r.key === null ? null : decoder.decode(r.key), value: r.value, headers: r.headers, origin: { topic: r.topic, partition: r.partition, offset: r.offset } });
      }
    }
  } finally {
    await consumer.close();
  }
  return out.sort((a, b) => a.origin.partition - b.origin.partition || a.origin.offset - b.origin.offset);
}

/** What the topic says about one key: its latest record's descriptor fields (loosely read) and flags. */
export interface PublishedModel {
  readonly key: string;
  readonly name: string | null;
  readonly version: number | null;
  readonly rollback: boolean;
  readonly shadow: boolean;
  readonly offset: number;
}

/** The latest record per key of the models topic (what compaction keeps), in key order. */
export async function latestPublished(log: Log, topic: string): Promise<PublishedModel[]> {
  const latest = new Map<string, PublishedModel>();
  for (const r of await readModelsTopic(log, topic)) {
    if (r.key === null) continue;
    let name: string | null = null;
    let version: number | null = null;
    try {
      const d = JSON.parse(decoder.decode(r.value)) as { name?: unknown; version?: unknown };
      if (typeof d.name === 'string') name = d.name;
      if (typeof d.version === 'number') version = d.version;
    } catch {
      // An unreadable record still shows up, with no name and version.
    }
    latest.set(r.key, { key: r.key, name, version, rollback: headerFlag(r.headers, ModelHeader.rollback), shadow: headerFlag(r.headers, ModelHeader.shadow), offset: r.origin.offset });
  }
  return [...latest.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
