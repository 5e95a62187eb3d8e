/**
 * A serving instance on the embedded log with its HTTP endpoint on 127.0.0.1 (port 0): readiness
 * only once the models are loaded, /healthz, /models, /metrics (Prometheus text), typed errors as
 * status codes; bad models published while traffic flows (rejected, the old version keeps
 * serving); a shadow's agreement reported over HTTP.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ModelDescriptor } from '../../src/model/index.ts';
import { DlqHeader, memoryLogger, startServing, type LogLine, type ModelsReport, type ServingHandle, type ServingLogger, type ServingOptions } from '../../src/serving/index.ts';
import { eventually } from '../helpers.ts';
import { embeddedBackend } from '../stream/backends.ts';
import { produce, readTopic } from '../stream/runtime-helpers.ts';
import { counterDescriptor, gatedOnnxFactory, modelRecord, NAN_KIND, onnxDescriptor, readScored, sendModelRecord, telemetry, tempStore, testRegistry } from './helpers.ts';
import { publish } from './service-scenarios.ts';

const TOPICS = { telemetry: 'telemetry', models: 'models', anomalies: 'anomalies', dlq: 'telemetry.dlq', scores: 'scores' } as const;

async function setup(t: TestContext, registry = testRegistry()) {
  const log = await embeddedBackend.open(t);
  const store = await tempStore(t, registry);
  const logger = memoryLogger();
  const base = {
    log,
    modelsDir: store.dir,
    registry,
    topics: TOPICS,
    logger,
    http: { host: '127.0.0.1', port: 0 },
    decider: { calibration: 'none', high: 0.5, low: 0.5, warmup: 0 },
    stream: embeddedBackend.fast,
  } satisfies ServingOptions;
  const start = async (extra: Partial<ServingOptions> = {}): Promise<ServingHandle> => {
    const h = await startServing({ ...base, ...extra });
    t.after(() => h.close());
    return h;
  };
  let seq = 0;
  const send = (n: number, deviceId = 'd1') => produce(log, Array.from({ length: n }, () => telemetry(TOPICS.telemetry, { deviceId, ts: Date.now(), seq: seq++, metrics: { x: 1 } })));
  return { log, store, logger, start, send, sent: () => seq };
}

async function get(url: string): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(url);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
}

test('/readyz answers 503 until the models are loaded, then 200; /healthz, /models and typed errors', async (t) => {
  const onnx = gatedOnnxFactory();
  const { log, store, logger, start } = await setup(t, testRegistry([onnx]));
  await publish(log, store, TOPICS.models, onnxDescriptor('default', 1));
  let url = '';
  const watcher: ServingLogger = {
    log(level, msg, fields) {
      logger.log(level, msg, fields);
      if (msg === 'serving starting') url = String(fields?.http);
    },
  };
  const starting = start({ logger: watcher });
  await eventually(() => url !== '' && onnx.started === 1, { message: 'the endpoint is up and the model load has begun' });
  const early = await get(`${url}/readyz`);
  assert.equal(early.status, 503);
  assert.deepEqual(early.body, { error: { code: 'SLUICE_SERVING_NOT_READY', message: 'loading models' } });
  assert.equal((await get(`${url}/healthz`)).status, 200);
  assert.deepEqual(((await get(`${url}/models`)).body as ModelsReport).models, []);

  onnx.release();
  const handle = await starting;
  assert.equal(handle.http?.url, url);
  assert.deepEqual((await get(`${url}/readyz`)).body, { status: 'ready' });
  assert.deepEqual((await get(`${url}/healthz`)).body, { status: 'ok' });
  const models = (await get(`${url}/models`)).body as ModelsReport;
  assert.equal(models.ready, true);
  assert.deepEqual(models.models.map((m) => [m.name, m.version, m.role, m.source, m.format]), [['default', 1, 'live', 'topic', 'onnx']]);
  assert.equal(typeof models.models[0]!.since, 'string');
  const one = await get(`${url}/models/default`);
  assert.equal(one.status, 200);
  const missing = await get(`${url}/models/class.nothing`);
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { error: { code: string } }).error.code, 'SLUICE_MODEL_NOT_FOUND');
  const nowhere = await get(`${url}/nowhere`);
  assert.equal(nowhere.status, 404);
  assert.equal((nowhere.body as { error: { code: string } }).error.code, 'SLUICE_HTTP_NOT_FOUND');

  await handle.close();
  await assert.rejects(fetch(`${url}/healthz`), 'the endpoint is closed with the instance');
});

test('the first model published to an instance serving none scores every record sent after it, even when it loads slowly', async (t) => {
  const onnx = gatedOnnxFactory();
  const { log, store, start, send } = await setup(t, testRegistry([onnx]));
  const handle = await start();
  assert.deepEqual(handle.models().models, []);
  await publish(log, store, TOPICS.models, onnxDescriptor('default', 1));
  await send(20);
  await eventually(() => onnx.started === 1, { message: 'the load began' });
  assert.equal(handle.metrics().records, 0, 'the data waits for the model');
  onnx.release();
  const out = await readScored(log, TOPICS.scores, 20);
  assert.ok(out.every((s) => s.model.version === 1));
  assert.equal(handle.metrics().unrouted, 0, 'no record was passed over');
});

test('/metrics: Prometheus text with records per model version, latency summary, dead letters, swaps and stream task metrics', async (t) => {
  const { log, store, start, send } = await setup(t);
  await publish(log, store, TOPICS.models, counterDescriptor('default', 1));
  const handle = await start({ latencySampleEvery: 1 });
  await send(30);
  await produce(log, [{ topic: TOPICS.telemetry, key: null, value: new Uint8Array([9, 9]) }]);
  await readScored(log, TOPICS.scores, 30);
  await eventually(() => handle.metrics().dlq.decode === 1, { message: 'the dead letter is counted' });
  const [letter] = await readTopic(log, TOPICS.dlq, 1);
  assert.deepEqual([...letter!.value], [9, 9]);
  assert.equal(new TextDecoder().decode(letter!.headers[DlqHeader.reason]), 'decode');
  assert.match(new TextDecoder().decode(letter!.headers[DlqHeader.source]), /^telemetry\/\d\/0$/);
  const res = await get(`${handle.http!.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain/);
  const text = res.body as string;
  for (const line of [
    /^sluice_serving_ready 1$/m,
    /^sluice_serving_records_total 30$/m,
    /^sluice_serving_records_scored_total\{model="default",version="1",role="live"\} 30$/m,
    /^sluice_serving_dlq_total\{reason="decode"\} 1$/m,
    /^sluice_serving_model_swaps_total\{model="default"\} 1$/m,
    /^sluice_serving_model_rejections_total\{reason="probe"\} 0$/m,
    /^sluice_serving_model_info\{model="default",version="1",role="live",kind="test-counter",source="topic"\} 1$/m,
    /^# TYPE sluice_serving_scoring_latency_seconds summary$/m,
    /^sluice_serving_scoring_latency_seconds\{model="default",version="1",role="live",quantile="0.99"\} [0-9.e-]+$/m,
    /^sluice_serving_scoring_latency_seconds_count\{model="default",version="1",role="live"\} 30$/m,
    /^sluice_stream_task_records_in_total\{task="telemetry-\d"\} \d+$/m,
  ]) {
    assert.match(text, line);
  }
  const latency = handle.models().models[0]!.latencyMs;
  assert.ok(latency.min > 0 && latency.min <= latency.mean && latency.mean <= latency.max && latency.p99 <= latency.max, JSON.stringify(latency));
});

test('bad models published while traffic flows are rejected with a logged reason and a metric; the old version keeps scoring', async (t) => {
  const { log, store, logger, start, send, sent } = await setup(t);
  await publish(log, store, TOPICS.models, counterDescriptor('default', 1));
  const handle = await start();
  await send(20);
  const good = counterDescriptor('default', 2);
  const bad: [string, Parameters<typeof sendModelRecord>[2]][] = [
    ['invalid', modelRecord('not json at all', 0, { key: 'default' })],
    ['checksum', modelRecord({ ...good, payload: { type: 'json', params: { scale: 2 } } } satisfies ModelDescriptor, 0)],
    ['probe', modelRecord(counterDescriptor('default', 3, { kind: NAN_KIND }), 0)],
  ];
  for (const [, record] of bad) {
    await sendModelRecord(log, TOPICS.models, record);
    await send(20);
  }
  await eventually(() => assert.deepEqual(pick(handle.metrics().rejections, ['invalid', 'checksum', 'probe']), { invalid: 1, checksum: 1, probe: 1 }), { message: 'three rejections' });
  await send(20);
  const out = await readScored(log, TOPICS.scores, sent());
  assert.ok(out.every((s) => s.model.version === 1), 'every record scored by v1');
  const rejected: LogLine[] = logger.lines.filter((l) => l.msg === 'model rejected');
  assert.deepEqual(rejected.map((l) => [l.level, l.fields.reason]), bad.map(([reason]) => ['warn', reason]));
  assert.match(await handle.prometheus(), /^sluice_serving_model_rejections_total\{reason="checksum"\} 1$/m);
  assert.equal(handle.models().models[0]!.version, 1);
});

test('a shadow published on the models topic is reported on /models with its agreement, then promoted', async (t) => {
  const { log, store, start, send } = await setup(t);
  await publish(log, store, TOPICS.models, counterDescriptor('default', 1));
  const handle = await start({ decider: { calibration: 'none', high: 0.5, low: 0.5, warmup: 0, report: 'active' } });
  await publish(log, store, TOPICS.models, counterDescriptor('default', 2, { scale: 1 }), { shadow: true });
  await eventually(() => handle.models().models.some((m) => m.role === 'shadow'), { message: 'the shadow is loaded' });
  await send(10);
  await readScored(log, TOPICS.scores, 10);
  const shadow = await eventually(async () => {
    const report = (await get(`${handle.http!.url}/models`)).body as ModelsReport;
    const s = report.models.find((m) => m.role === 'shadow');
    return s !== undefined && s.shadow!.compared === 10 ? s : false;
  });
  assert.equal(shadow.version, 2);
  assert.deepEqual(shadow.shadow?.against, { name: 'default', version: 1 });
  assert.equal(shadow.shadow?.agreement, 0, 'the live model flags nothing, the shadow everything');
  assert.ok(shadow.shadow!.meanAbsScoreDelta! > 0.99);
  assert.match(await handle.prometheus(), /^sluice_serving_shadow_agreement_ratio\{model="default",version="2"\} 0$/m);
  assert.equal((await readScored(log, TOPICS.anomalies, 0)).length, 0, 'the shadow emitted no anomaly');

  await publish(log, store, TOPICS.models, counterDescriptor('default', 2, { scale: 1 }));
  await eventually(() => assert.deepEqual(handle.models().models.map((m) => [m.version, m.role]), [[2, 'live']]), { message: 'promoted' });
  await send(5);
  const anomalies = await readScored(log, TOPICS.anomalies, 1);
  assert.deepEqual(anomalies[0]!.model, { name: 'default', version: 2 });
  assert.deepEqual(anomalies[0]!.contributors, [{ metric: 'x', weight: 1 }]);
});

function pick<T extends Record<string, number>>(o: T, keys: readonly (keyof T)[]): Partial<T> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Partial<T>;
}
