/**
 * The nodes of a topology description: plain, frozen data (plus the user's functions). A topology
 * is a graph of these, linked by parent names; the runtime and the test driver turn each node into
 * a processor per task (processor/operators.ts).
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { LogRecord } from '../../log/types.ts';
import type { ConnectedProcessorSupplier, ProcessorSupplier } from '../processor/api.ts';
import type { KeyValue, StreamRecord } from '../record.ts';

/** Every kind of node. */
export const NodeKind = {
  source: 'source',
  map: 'map',
  mapValues: 'mapValues',
  filter: 'filter',
  flatMap: 'flatMap',
  branch: 'branch',
  branchOutput: 'branchOutput',
  merge: 'merge',
  peek: 'peek',
  mapAsync: 'mapAsync',
  selectKey: 'selectKey',
  process: 'process',
  sink: 'sink',
  forEach: 'forEach',
  control: 'control',
  connect: 'connect',
} as const;
/** The kind of a node. */
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

/** A record with its types erased, as the runtime handles it. */
export type AnyRecord = StreamRecord<unknown, unknown>;

/** A topic as named in a topology: a user topic, or an internal one named after the application. */
export interface TopicRef {
  /** The user's topic name, or the logical name of an internal topic. */
  readonly name: string;
  /** Internal topics resolve to `<applicationId>-<name>-repartition`. */
  readonly internal: boolean;
}

/** Chooses a record's event time from its log record; `partitionTime` is the task's stream time. */
export type TimestampExtractor<K, V> = (record: LogRecord, decoded: KeyValue<K, V>, partitionTime: number) => number;

interface Base {
  /** Unique within the topology. */
  readonly name: string;
  /** Names of the upstream nodes (empty for sources). */
  readonly parents: readonly string[];
}

/** Reads a topic and decodes its records. */
export interface SourceNode extends Base {
  readonly kind: 'source';
  readonly topic: TopicRef;
  readonly keyCodec: Codec<unknown>;
  readonly valueCodec: Codec<unknown>;
  readonly timestamp: TimestampExtractor<unknown, unknown> | undefined;
}

/** A node that applies one user function to each record. */
export interface FunctionNode extends Base {
  readonly kind: 'map' | 'mapValues' | 'filter' | 'flatMap' | 'peek' | 'selectKey';
  readonly fn: (record: AnyRecord) => unknown;
}

/** Routes each record to the first branch whose predicate holds (or to `default`, or drops it). */
export interface BranchNode extends Base {
  readonly kind: 'branch';
  /** In order; `predicate` undefined marks the default branch (always last). */
  readonly branches: readonly { readonly name: string; readonly predicate: ((record: AnyRecord) => boolean) | undefined }[];
}

/** One named output of a branch node. */
export interface BranchOutputNode extends Base {
  readonly kind: 'branchOutput';
  readonly branch: string;
}

/** Joins several streams into one. */
export interface MergeNode extends Base {
  readonly kind: 'merge';
}

/** Maps values with an async function, at most `concurrency` in flight per task, order kept. */
export interface MapAsyncNode extends Base {
  readonly kind: 'mapAsync';
  readonly fn: (record: AnyRecord) => Promise<unknown>;
  readonly concurrency: number;
}

/** Runs a user {@link Processor} (punctuation, custom logic). */
export interface ProcessNode extends Base {
  readonly kind: 'process';
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  /** Names of the state stores the processor uses (`context.getStore`). */
  readonly stores?: readonly string[];
}

/** Encodes records and produces them to a topic. */
export interface SinkNode extends Base {
  readonly kind: 'sink';
  readonly topic: TopicRef;
  readonly keyCodec: Codec<unknown>;
  readonly valueCodec: Codec<unknown>;
}

/** Hands every record to a function (a terminal side effect). */
export interface ForEachNode extends Base {
  readonly kind: 'forEach';
  readonly fn: (record: AnyRecord) => void | Promise<void>;
}

/**
 * Reads a control topic: every partition, on every instance, outside the consumer group; its
 * records go to the instance's `perInstance` listener and to the connected processors of every
 * task (control/state.ts).
 */
export interface ControlNode extends Base {
  readonly kind: 'control';
  readonly topic: TopicRef;
  readonly keyCodec: Codec<unknown>;
  readonly valueCodec: Codec<unknown>;
  /** Makes the instance-level listener (`perInstance` of `builder.control()`), or null. */
  readonly perInstance: (() => (record: AnyRecord) => void | Promise<void>) | null;
}

/**
 * Runs a user {@link ConnectedProcessor}: data records from its first parent, control records
 * from the control node named in `control` (its second parent).
 */
export interface ConnectNode extends Base {
  readonly kind: 'connect';
  readonly control: string;
  readonly supplier: ConnectedProcessorSupplier<unknown, unknown, unknown, unknown, unknown, unknown>;
  /** Names of the state stores the processor uses (`context.getStore`). */
  readonly stores?: readonly string[];
}

/** Any node of a topology. */
export type TopologyNode =
  | SourceNode
  | FunctionNode
  | BranchNode
  | BranchOutputNode
  | MergeNode
  | MapAsyncNode
  | ProcessNode
  | SinkNode
  | ForEachNode
  | ControlNode
  | ConnectNode;

/** The resolved name of a topic for an application. */
export function resolveTopic(topic: TopicRef, applicationId: string): string {
  return topic.internal ? `${applicationId}-${topic.name}-repartition` : topic.name;
}

/** A node to add, before the builder names it (`name` undefined: a default name). */
export type NodeSpec = TopologyNode extends infer N ? (N extends TopologyNode ? Omit<N, 'name'> & { readonly name: string | undefined } : never) : never;

/** A node spec without parents (the stream adds its own node as the parent). */
export type ChildSpec = NodeSpec extends infer N ? (N extends NodeSpec ? Omit<N, 'parents'> : never) : never;
