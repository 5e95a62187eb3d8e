/**
 * The HTTP endpoint of a serving instance (Fastify 5):
 *
 *   GET /healthz        200 {"status":"ok"} while the instance runs; 503 once its stream failed
 *   GET /readyz         200 {"status":"ready"} once models are loaded and the stream runs; else 503
 *   GET /metrics        Prometheus text (prometheus.ts)
 *   GET /models         the models in service (report.ts ModelsReport)
 *   GET /models/:name   the live model and shadow of one name; 404 when none
 *
 * Errors are typed: a SluiceError becomes `{"error":{"code","message"}}` with the status its code
 * maps to (404 not found, 400 bad input, 503 not ready or closed, 504 timeout, else 500).
 */
import Fastify from 'fastify';
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import type { ModelReport, ModelsReport } from './report.ts';

/** What the endpoint serves. */
export interface HttpSources {
  /** null when healthy, else why not. */
  unhealthy(): string | null;
  /** null when ready, else why not. */
  notReady(): string | null;
  metrics(): Promise<string>;
  readonly metricsContentType: string;
  models(): ModelsReport;
}

/** A listening endpoint. */
export interface HttpServer {
  /** e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.CONFIG_INVALID]: 400,
  [ErrorCode.MODEL_NOT_FOUND]: 404,
  [ErrorCode.HTTP_NOT_FOUND]: 404,
  [ErrorCode.SERVING_NOT_READY]: 503,
  [ErrorCode.STREAM_CLOSED]: 503,
  [ErrorCode.LOG_TIMEOUT]: 504,
};

/** The HTTP status of an error (see the file comment). */
export function statusOf(error: unknown): number {
  if (isSluiceError(error)) return STATUS[error.code] ?? 500;
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/** Starts the endpoint on `host:port` (port 0: any free port). */
export async function startHttp(options: { readonly host: string; readonly port: number }, src: HttpSources): Promise<HttpServer> {
  const app = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    const code = isSluiceError(error) ? error.code : ((error as { code?: unknown }).code ?? 'SLUICE_HTTP_ERROR');
    void reply.code(statusOf(error)).send({ error: { code, message: (error as Error).message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: ErrorCode.HTTP_NOT_FOUND, message: `no route ${request.method} ${request.url}` } });
  });
  app.get('/healthz', async () => {
    const why = src.unhealthy();
    if (why !== null) throw new SluiceError(ErrorCode.STREAM_CLOSED, why);
    return { status: 'ok' };
  });
  app.get('/readyz', async () => {
    const why = src.notReady();
    if (why !== null) throw new SluiceError(ErrorCode.SERVING_NOT_READY, why);
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', src.metricsContentType);
    return src.metrics();
  });
  app.get('/models', async () => src.models());
  app.get<{ Params: { name: string } }>('/models/:name', async (request) => {
    const found: ModelReport[] = src.models().models.filter((m) => m.name === request.params.name);
    if (found.length === 0) throw new SluiceError(ErrorCode.MODEL_NOT_FOUND, `no model '${request.params.name}' is in service here`, { details: { name: request.params.name } });
    return { models: found };
  });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, port, close: () => app.close() };
}
