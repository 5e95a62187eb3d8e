/**
 * `startServing(options)`: one scoring instance, in process. It
 *
 * 1. starts the HTTP endpoint, which answers `/readyz` with 503 until step 5;
 * 2. creates the topics it needs when they are missing (telemetry, anomalies, dead letters and
 *    scores with `partitions` partitions; `models` compacted with one partition);
 * 3. reads the `models` topic to its end and takes every descriptor in order, waiting for each
 *    load (the topic is the record of what was published, rollbacks and shadows included); then
 *    serves the latest stored version of every model the topic does not mention (the store's own
 *    models), and the configured shadows;
 * 4. runs the serving topology (topology.ts) on the log: the stream layer reads `models` again as
 *    a control stream, and the manager takes only what it has not seen;
 * 5. is ready.
 *
 * Several instances with the same `applicationId` share the telemetry partitions; each reads all
 * of `models` and its manager takes every new model whether or not the instance holds a partition
 * (the control stream's `perInstance` listener), so an idle instance that takes over partitions
 * scores with the newest models, and its `/models` is current meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, SluiceError } from '../errors.ts';
import { ensureTopic, type Admin } from '../log/index.ts';
import { ModelStore } from '../model/index.ts';
import { run, type StreamApp } from '../stream/index.ts';
import { ServingCounters } from './counters.ts';
import { startHttp, type HttpServer } from './http.ts';
import { ModelManager } from './model-manager.ts';
import { ensureModelsTopic, readModelsTopic } from './models-topic.ts';
import { resolveServingOptions, type ResolvedServingOptions, type ServingOptions } from './options.ts';
import { servingRegistry } from './prometheus.ts';
import { modelsReport, servingMetrics, type ModelsReport, type ServingMetrics } from './report.ts';
import { servingTopology } from './topology.ts';

/** A running serving instance. */
export interface ServingHandle {
  readonly instanceId: string;
  /** The HTTP endpoint, or null when disabled. */
  readonly http: { readonly url: string; readonly port: number } | null;
  /** True once models are loaded and the stream runs (what `/readyz` says). */
  ready(): boolean;
  /** A snapshot of the counters, models and stream metrics. */
  metrics(): ServingMetrics;
  /** The models in service (what `/models` says). */
  models(): ModelsReport;
  /** The Prometheus text of `/metrics`. */
  prometheus(): Promise<string>;
  /** Resolves once every model descriptor taken so far was loaded, rejected or ignored. */
  settled(): Promise<void>;
  /** Resolves when the instance has stopped; rejects with the error if its stream failed. */
  stopped(): Promise<void>;
  /** Finishes the batch in flight (committing it), stops the stream and the HTTP endpoint. Idempotent. */
  close(): Promise<void>;
}

/** Starts a serving instance (see the file comment). */
export async function startServing(options: ServingOptions): Promise<ServingHandle> {
  const o = resolveServingOptions(options);
  const instanceId = o.instanceId ?? randomUUID().slice(0, 8);
  const { logger } = o;
  const counters = new ServingCounters();
  const store = new ModelStore({ dir: o.modelsDir, registry: o.registry, maxPayloadBytes: o.maxPayloadBytes });
  const manager = new ModelManager({
    store,
    registry: o.registry,
    maxPayloadBytes: o.maxPayloadBytes,
    decider: o.decider,
    probeRecords: o.probeRecords,
    loadTimeoutMs: o.modelLoadTimeoutMs,
    clock: o.clock,
    logger,
    counters,
  });
  let app: StreamApp | null = null;
  let ready = false;
  let closing: Promise<void> | null = null;
  const registry = servingRegistry({ manager, counters, ready: () => isReady(), stream: () => app?.metrics() ?? null });
  const notReady = (): string | null => {
    if (closing !== null) return 'closing';
    if (!ready || app === null) return 'loading models';
    return app.state === 'running' ? null : `the stream is ${app.state}${app.error === null ? '' : `: ${app.error.message}`}`;
  };
  const isReady = (): boolean => notReady() === null;
  let http: HttpServer | null = null;
  try {
    if (o.http !== null) {
      http = await startHttp(o.http, {
        unhealthy: () => (app !== null && app.state === 'failed' ? `the stream failed: ${app.error?.message ?? 'unknown error'}` : null),
        notReady,
        metrics: () => registry.metrics(),
        metricsContentType: registry.contentType,
        models: () => modelsReport(manager, isReady()),
      });
    }
    await ensureTopics(o.log.admin, o);
    logger.log('info', 'serving starting', { instanceId, applicationId: o.applicationId, http: http?.url ?? null, models: o.topics.models, store: store.dir });
    await manager.boot(await readModelsTopic(o.log, o.topics.models));
    const { live, shadows } = manager.table;
    for (const { name } of await store.list()) if (!live.has(name) && !shadows.has(name)) await manager.fromStore(name, undefined, 'live');
    for (const [i, s] of o.shadows.entries()) {
      if (!(await store.versions(s.name)).includes(s.version)) {
        throw new SluiceError(ErrorCode.CONFIG_INVALID, `/serving/shadows/${i}: model '${s.name}' v${s.version} is not in the store ${store.dir}`, { details: { path: `/serving/shadows/${i}` } });
      }
      await manager.fromStore(s.name, s.version, 'shadow');
    }
    app = await run(servingTopology({ options: o, manager, counters, logger }), {
      log: o.log,
      applicationId: o.applicationId,
      delivery: o.delivery,
      instanceId,
      clock: o.clock,
      ...o.stream,
      onError: (error) => logger.log('error', 'serving stream stopped', { instanceId, error: error.message, code: (error as { code?: unknown }).code ?? null }),
    });
    ready = true;
    const table = manager.table;
    logger.log('info', 'serving ready', { instanceId, live: [...table.live.values()].map((m) => `${m.name}@${m.version}`), shadows: [...table.shadows.values()].map((m) => `${m.name}@${m.version}`) });
  } catch (error) {
    await http?.close();
    throw error;
  }
  const started = app;
  return {
    instanceId,
    http: http === null ? null : { url: http.url, port: http.port },
    ready: isReady,
    metrics: () => servingMetrics(manager, counters, isReady(), started.metrics()),
    models: () => modelsReport(manager, isReady()),
    prometheus: () => registry.metrics(),
    settled: () => manager.settled(),
    stopped: () => started.stopped(),
    close() {
      closing ??= (async () => {
        await started.close();
        await manager.settled();
        await http?.close();
        logger.log('info', 'serving stopped', { instanceId });
      })();
      return closing;
    },
  };
}

async function ensureTopics(admin: Admin, o: ResolvedServingOptions): Promise<void> {
  const { telemetry, anomalies, dlq, scores, models } = o.topics;
  for (const topic of [telemetry, anomalies, dlq, ...(scores === null ? [] : [scores])]) await ensureTopic(admin, topic, { partitions: o.partitions });
  await ensureModelsTopic(admin, models);
}
