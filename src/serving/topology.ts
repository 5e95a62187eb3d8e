/**
 * The serving topology:
 *
 *   control(models) ──┐
 *   stream(telemetry) ─┴─ connect(score, store serving-device-state) ─ branch ─┬─ anomalies
 *                                                                              ├─ scores (optional)
 *                                                                              └─ telemetry.dlq
 *
 * The models control stream feeds the instance's model manager directly (`perInstance`), so an
 * instance with no partition keeps its models current; each task's processor offers the records
 * too, which the manager takes once (it only tells the task to wait for a first model).
 *
 * Keys and values travel as raw bytes: the processor decodes and checks telemetry itself, so a
 * bad record becomes a dead letter with a reason instead of a stream-layer error. Anything else
 * that fails in a record's processing (a bug) follows the `dead-letter` policy into the same
 * topic, with the stream layer's `sluice.error.*` headers.
 */
import { bytesCodec, stringCodec, type Codec } from '../log/index.ts';
import { topology, type Topology } from '../stream/index.ts';
import { deviceSlotCodec } from './device-state.ts';
import { DEVICE_STATE_STORE, OutputTopic, servingProcessor, type ProcessorDeps } from './processor.ts';

const nullableBytes = bytesCodec as Codec<Uint8Array | null>;

/** Builds the serving topology for an instance's processors. */
export function servingTopology(deps: ProcessorDeps): Topology {
  const { topics, maxDevicesPerTask } = deps.options;
  const b = topology({ errors: { onError: 'dead-letter', deadLetterTopic: topics.dlq } });
  b.addStore({ name: DEVICE_STATE_STORE, key: stringCodec, value: deviceSlotCodec, maxEntries: maxDevicesPerTask, encodeChangelog: 'commit' });
  // The manager hears every models record even while this instance holds no partition.
  const models = b.control(topics.models, { name: 'models', key: stringCodec, value: bytesCodec, perInstance: () => (r) => deps.manager.offer(r) });
  const scored = b
    .stream(topics.telemetry, { name: 'telemetry', key: nullableBytes, value: bytesCodec })
    .connect(models, servingProcessor(deps), { name: 'score', stores: [DEVICE_STATE_STORE] });
  const out = scored.branch(
    { anomalies: (r) => r.value.to === OutputTopic.anomalies, scores: (r) => r.value.to === OutputTopic.scores },
    { name: 'outputs', default: 'dlq' },
  );
  const raw = { key: nullableBytes, value: bytesCodec };
  out.anomalies.mapValues((v) => v.bytes, { name: 'anomaly-bytes' }).to(topics.anomalies, { ...raw, name: 'to-anomalies' });
  out.dlq.mapValues((v) => v.bytes, { name: 'dlq-bytes' }).to(topics.dlq, { ...raw, name: 'to-dlq' });
  if (topics.scores !== null) out.scores.mapValues((v) => v.bytes, { name: 'score-bytes' }).to(topics.scores, { ...raw, name: 'to-scores' });
  return b.build();
}
