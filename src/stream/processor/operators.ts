/**
 * The built-in stateless operators: one small processor per node kind. Each is created once per
 * task by processor/graph.ts; user functions are called here and their errors are turned into
 * processing errors by the surrounding {@link ProcessorNode}.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { ProducerRecord } from '../../log/types.ts';
import { KeyBytesCache } from '../key-bytes.ts';
import { isDelete, TOMBSTONE_VALUE, type KeyValue } from '../record.ts';
import { resolveTopic, type AnyRecord, type TopologyNode } from '../topology/nodes.ts';
import type { Processor } from './api.ts';
import { mapAsyncProcessor } from './map-async.ts';
import { eachInOrder } from './maybe-async.ts';
import type { NodeContext } from './node.ts';
import type { TaskServices } from './services.ts';

type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;

/** A processor from a function of (record, context), for the simple operators. */
function simple(fn: (record: AnyRecord, ctx: NodeContext) => void | Promise<void>): AnyProcessor {
  let ctx: NodeContext;
  return {
    init(context) {
      ctx = context as NodeContext;
    },
    process: (record) => fn(record as AnyRecord, ctx),
  };
}

/** `r` with another key and value (written out: cheaper than a spread on the per-record path). */
function withKeyValue(r: AnyRecord, key: unknown, value: unknown): AnyRecord {
  return { key, value, timestamp: r.timestamp, headers: r.headers, origin: r.origin };
}

/** Creates the processor of `node` for a task with `services`. */
export function createProcessor(node: TopologyNode, services: TaskServices): AnyProcessor {
  switch (node.kind) {
    case 'source':
    case 'branchOutput':
    case 'merge':
      return simple((r, ctx) => ctx.forward(r));
    case 'map':
    case 'selectKey':
    case 'mapValues': {
      const fn = node.fn;
      if (node.kind === 'map') {
        return simple((r, ctx) => {
          const kv = fn(r) as KeyValue<unknown, unknown>;
          return ctx.forward(withKeyValue(r, kv.key, kv.value));
        });
      }
      if (node.kind === 'selectKey') return simple((r, ctx) => ctx.forward(withKeyValue(r, fn(r), r.value)));
      return simple((r, ctx) => ctx.forward(withKeyValue(r, r.key, fn(r))));
    }
    case 'filter': {
      const fn = node.fn;
      return simple((r, ctx) => (fn(r) ? ctx.forward(r) : undefined));
    }
    case 'peek': {
      const fn = node.fn;
      return simple((r, ctx) => {
        fn(r);
        return ctx.forward(r);
      });
    }
    case 'flatMap': {
      const fn = node.fn;
      return simple((r, ctx) => eachInOrder(fn(r) as Iterable<KeyValue<unknown, unknown>>, (kv) => ctx.forward(withKeyValue(r, kv.key, kv.value))));
    }
    case 'branch': {
      const branches = node.branches.map((b) => ({ child: `${node.name}-${b.name}`, predicate: b.predicate }));
      return simple((r, ctx) => {
        for (const b of branches) if (b.predicate === undefined || b.predicate(r)) return ctx.forwardTo(b.child, r);
        return undefined;
      });
    }
    case 'mapAsync':
      return mapAsyncProcessor(node);
    case 'process':
      return node.supplier();
    case 'connect': {
      const processor = node.supplier() as AnyProcessor & { control?: unknown };
      if (typeof processor?.control !== 'function') {
        throw new SluiceError(ErrorCode.STREAM_INVALID_TOPOLOGY, `connect node '${node.name}': the supplier must return a processor with a control(record) method`, { details: { node: node.name } });
      }
      return processor;
    }
    case 'control':
      throw new Error(`internal: control node '${node.name}' is not part of a task graph`);
    case 'forEach': {
      const fn = node.fn;
      return simple((r) => {
        services.countOutput();
        return fn(r);
      });
    }
    case 'sink': {
      const topic = resolveTopic(node.topic, services.applicationId);
      const { valueCodec } = node;
      const keys = new KeyBytesCache(node.keyCodec);
      return simple((r) => {
        const out: ProducerRecord = {
          topic,
          key: r.key === null || r.key === undefined ? null : keys.encode(r.key),
          value: isDelete(r) ? TOMBSTONE_VALUE : valueCodec.encode(r.value),
          headers: r.headers,
          timestamp: r.timestamp,
        };
        services.send(out, r.origin);
      });
    }
  }
}
