/**
 * The stream DSL: each operator adds one node to the builder and returns a new {@link Stream}
 * handle; nothing runs here. A stream remembers its codecs while its types are unchanged (so `to()`
 * and `repartition()` can default to them) and whether its key was changed (so that stateful
 * operators, when they land, know to repartition first).
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { ControlStream } from '../control/stream.ts';
import type { ConnectedProcessorSupplier, ProcessorSupplier } from '../processor/api.ts';
import type { KeyValue, StreamRecord } from '../record.ts';
import { GroupedStream } from '../table/grouped.ts';
import { joinProcessor, type JoinOptions } from '../table/join.ts';
import type { Table } from '../table/table.ts';
import type { TopologyBuilder } from './builder.ts';
import type { AnyRecord, ChildSpec, NodeSpec } from './nodes.ts';
import { assertCodec, assertFunction, assertInteger, invalidTopology } from './validate.ts';

/** Options every operator takes. */
export interface NamedOptions {
  /** Node name, unique in the topology (default `<kind>-<n>`). */
  readonly name?: string;
}

/** Codecs of a sink or repartition; each defaults to the stream's own when its type is unchanged. */
export interface CodecOptions<K, V> extends NamedOptions {
  readonly key?: Codec<K>;
  readonly value?: Codec<V>;
}

/** Options of {@link Stream.repartition}. */
export interface RepartitionOptions<K, V> extends CodecOptions<K, V> {
  /** Partitions of the repartition topic. Default: the most partitions among the source topics. */
  readonly partitions?: number;
}

/** Options of {@link Stream.mapAsync}. */
export interface MapAsyncOptions extends NamedOptions {
  /** Most calls in flight per task. Default 8. */
  readonly concurrency?: number;
}

/** Options of {@link Stream.branch}. */
export interface BranchOptions<D extends string> extends NamedOptions {
  /** Name of a branch that gets the records no predicate matched (otherwise they are dropped). */
  readonly default?: D;
}

/** Options of {@link Stream.process}. */
export interface ProcessOptions extends NamedOptions {
  /** Names of the state stores (from `builder.addStore`) the processor uses. */
  readonly stores?: readonly string[];
}

/** Options of {@link Stream.groupByKey} and {@link Stream.groupBy}: codecs of the grouped records. */
export type GroupOptions<K, V> = RepartitionOptions<K, V>;

/** Default of {@link MapAsyncOptions.concurrency}. */
export const MAP_ASYNC_DEFAULT_CONCURRENCY = 8;

type Known<T> = { readonly key?: Codec<unknown> | undefined; readonly value?: Codec<unknown> | undefined } & T;

/** A stream of records with keys `K` and values `V`, inside a topology being built. */
export class Stream<K, V> {
  readonly #builder: TopologyBuilder;
  /** Name of the node this stream comes out of. */
  readonly node: string;
  readonly #codecs: Known<object>;
  /** True when an operator may have changed the key since the last source or repartition. */
  readonly keyChanged: boolean;

  /** Made by the builder and by operators. */
  constructor(builder: TopologyBuilder, node: string, codecs: { key?: Codec<K> | undefined; value?: Codec<V> | undefined }, keyChanged = false) {
    this.#builder = builder;
    this.node = node;
    this.#codecs = codecs as Known<object>;
    this.keyChanged = keyChanged;
  }

  #add<K2, V2>(node: ChildSpec, codecs: { key?: Codec<K2> | undefined; value?: Codec<V2> | undefined }, keyChanged: boolean): Stream<K2, V2> {
    const name = this.#builder.add({ ...node, parents: [this.node] } as NodeSpec);
    return new Stream<K2, V2>(this.#builder, name, codecs, keyChanged);
  }

  #fn(kind: 'map' | 'mapValues' | 'filter' | 'flatMap' | 'peek' | 'selectKey', fn: unknown, options: NamedOptions | undefined, wrapped: (r: AnyRecord) => unknown): ChildSpec {
    assertFunction(`${kind}()`, fn);
    return { kind, name: options?.name, fn: wrapped } as ChildSpec;
  }

  /** Maps each record to a new key and value (the key may change: repartition before stateful steps). */
  map<K2, V2>(fn: (record: StreamRecord<K, V>) => KeyValue<K2, V2>, options?: NamedOptions): Stream<K2, V2> {
    return this.#add(this.#fn('map', fn, options, fn as (r: AnyRecord) => unknown), {}, true);
  }

  /** Maps each value; the key stays. */
  mapValues<V2>(fn: (value: V, record: StreamRecord<K, V>) => V2, options?: NamedOptions): Stream<K, V2> {
    const f = fn as (value: unknown, record: AnyRecord) => unknown;
    return this.#add(this.#fn('mapValues', fn, options, (r) => f(r.value, r)), { key: this.#codecs.key as Codec<K> | undefined }, this.keyChanged);
  }

  /** Keeps the records for which `predicate` holds. */
  filter(predicate: (record: StreamRecord<K, V>) => boolean, options?: NamedOptions): Stream<K, V> {
    return this.#add(this.#fn('filter', predicate, options, predicate as (r: AnyRecord) => unknown), this.#codecs as CodecOptions<K, V>, this.keyChanged);
  }

  /** Maps each record to zero or more records. */
  flatMap<K2, V2>(fn: (record: StreamRecord<K, V>) => Iterable<KeyValue<K2, V2>>, options?: NamedOptions): Stream<K2, V2> {
    return this.#add(this.#fn('flatMap', fn, options, fn as (r: AnyRecord) => unknown), {}, true);
  }

  /** Calls `fn` on each record and passes the record on unchanged (logging, metrics). */
  peek(fn: (record: StreamRecord<K, V>) => void, options?: NamedOptions): Stream<K, V> {
    return this.#add(this.#fn('peek', fn, options, fn as (r: AnyRecord) => unknown), this.#codecs as CodecOptions<K, V>, this.keyChanged);
  }

  /** Gives each record a new key computed from it (mark for repartition). */
  selectKey<K2>(fn: (record: StreamRecord<K, V>) => K2, options?: NamedOptions): Stream<K2, V> {
    return this.#add(this.#fn('selectKey', fn, options, fn as (r: AnyRecord) => unknown), { value: this.#codecs.value as Codec<V> | undefined }, true);
  }

  /**
   * Maps each value with an async function; at most `concurrency` calls are in flight per task, and
   * results leave in input order (per partition). A rejection is a processing error of its record.
   */
  mapAsync<V2>(fn: (record: StreamRecord<K, V>) => Promise<V2>, options: MapAsyncOptions = {}): Stream<K, V2> {
    assertFunction('mapAsync()', fn);
    const concurrency = options.concurrency ?? MAP_ASYNC_DEFAULT_CONCURRENCY;
    assertInteger('mapAsync().concurrency', concurrency, 1, 10_000);
    const node = { kind: 'mapAsync', name: options.name, fn, concurrency } as const;
    return this.#add(node as ChildSpec, { key: this.#codecs.key as Codec<K> | undefined }, this.keyChanged);
  }

  /**
   * Splits the stream: each record goes to the first branch (in object order) whose predicate
   * holds, else to the `default` branch if named, else it is dropped. Returns a stream per branch.
   */
  branch<B extends string, D extends string = never>(
    predicates: Readonly<Record<B, (record: StreamRecord<K, V>) => boolean>>,
    options: BranchOptions<D> = {},
  ): Record<B | D, Stream<K, V>> {
    const entries = Object.entries(predicates) as [string, unknown][];
    if (entries.length === 0 && options.default === undefined) throw invalidTopology('branch() needs at least one predicate or a default branch');
    for (const [name, p] of entries) assertFunction(`branch().${name}`, p);
    if (options.default !== undefined && Object.hasOwn(predicates, options.default)) {
      throw invalidTopology(`branch(): default branch '${options.default}' is also a predicate branch`);
    }
    const branches = entries.map(([name, p]) => ({ name, predicate: p as (r: AnyRecord) => boolean }));
    if (options.default !== undefined) branches.push({ name: options.default, predicate: undefined as unknown as (r: AnyRecord) => boolean });
    const parent = this.#builder.add({ kind: 'branch', name: options.name, parents: [this.node], branches: branches.map((b) => Object.freeze(b)) });
    const out = {} as Record<string, Stream<K, V>>;
    for (const b of branches) {
      const name = this.#builder.add({ kind: 'branchOutput', name: `${parent}-${b.name}`, parents: [parent], branch: b.name });
      out[b.name] = new Stream<K, V>(this.#builder, name, this.#codecs as CodecOptions<K, V>, this.keyChanged);
    }
    return out as Record<B | D, Stream<K, V>>;
  }

  /** Merges this stream with others of the same types (no order between them is promised). */
  merge(others: Stream<K, V> | readonly Stream<K, V>[], options?: NamedOptions): Stream<K, V> {
    const list = Array.isArray(others) ? (others as readonly Stream<K, V>[]) : [others as Stream<K, V>];
    if (list.length === 0) throw invalidTopology('merge() needs at least one other stream');
    for (const s of list) {
      if (!(s instanceof Stream) || s.#builder !== this.#builder) throw invalidTopology('merge(): every stream must come from the same topology builder');
    }
    const name = this.#builder.add({ kind: 'merge', name: options?.name, parents: [this.node, ...list.map((s) => s.node)] });
    const key = list.every((s) => s.#codecs.key === this.#codecs.key) ? (this.#codecs.key as Codec<K> | undefined) : undefined;
    const value = list.every((s) => s.#codecs.value === this.#codecs.value) ? (this.#codecs.value as Codec<V> | undefined) : undefined;
    return new Stream<K, V>(this.#builder, name, { key, value }, this.keyChanged || list.some((s) => s.keyChanged));
  }

  /** Runs a low-level {@link Processor} per task (custom logic, punctuation, state stores). */
  process<K2, V2>(supplier: ProcessorSupplier<K, V, K2, V2>, options?: ProcessOptions): Stream<K2, V2> {
    assertFunction('process()', supplier);
    const stores = options?.stores;
    if (stores !== undefined && (!Array.isArray(stores) || stores.some((s) => typeof s !== 'string'))) throw invalidTopology('process().stores must be an array of store names');
    const node = { kind: 'process', name: options?.name, supplier, ...(stores === undefined ? {} : { stores: Object.freeze([...stores]) }) } as const;
    return this.#add(node as ChildSpec, {}, true);
  }

  /**
   * Runs a {@link ConnectedProcessor} per task that gets this stream's records through `process`
   * and every record of `control` through `control`. Every task applies a control record before
   * the data records appended after it (see `builder.control()` for the ordering rule).
   */
  connect<CK, CV, KO, VO>(control: ControlStream<CK, CV>, supplier: ConnectedProcessorSupplier<K, V, CK, CV, KO, VO>, options?: ProcessOptions): Stream<KO, VO> {
    if (typeof control?.isFrom !== 'function' || !control.isFrom(this.#builder)) throw invalidTopology('connect(): the first argument must be a control stream of the same topology builder');
    assertFunction('connect()', supplier);
    const stores = options?.stores;
    if (stores !== undefined && (!Array.isArray(stores) || stores.some((s) => typeof s !== 'string'))) throw invalidTopology('connect().stores must be an array of store names');
    const name = this.#builder.add({
      kind: 'connect',
      name: options?.name,
      parents: [this.node, control.node],
      control: control.node,
      supplier: supplier as unknown as ConnectedProcessorSupplier<unknown, unknown, unknown, unknown, unknown, unknown>,
      ...(stores === undefined ? {} : { stores: Object.freeze([...stores]) }),
    });
    return new Stream<KO, VO>(this.#builder, name, {}, true);
  }

  /**
   * Groups the records by their key for an aggregation (`count`, `reduce`, `aggregate`). If the key
   * may have changed since the source, the records are first repartitioned through an internal
   * topic (codecs from the options, else the stream's own).
   */
  groupByKey(options: GroupOptions<K, V> = {}): GroupedStream<K, V> {
    const s = this.keyChanged ? this.repartition(options) : this;
    const { key, value } = s.#sinkCodecs('groupByKey()', options);
    return new GroupedStream<K, V>(s.#builder, s, key as Codec<K>, value as Codec<V>);
  }

  /** Groups the records by a new key computed from each (always repartitions; pass the key codec). */
  groupBy<K2>(fn: (record: StreamRecord<K, V>) => K2, options: GroupOptions<K2, V> & { readonly key: Codec<K2> }): GroupedStream<K2, V> {
    return this.selectKey(fn).groupByKey(options);
  }

  /**
   * Joins each record with the table's value for its key; records without one are dropped. A
   * table from `builder.table()` must be co-partitioned with this stream (if the key changed, the
   * stream is repartitioned first); a global table can be looked up by any key (`options.key`).
   */
  join<KT, VT, VR>(table: Table<KT, VT>, joiner: (value: V, tableValue: VT, record: StreamRecord<K, V>) => VR, options: JoinOptions<K, V, KT> = {}): Stream<K, VR> {
    return this.#join(table, joiner as (value: V, tableValue: VT | undefined, record: StreamRecord<K, V>) => VR, false, options);
  }

  /** Like {@link join}, but records without a table value are kept (`tableValue` undefined). */
  leftJoin<KT, VT, VR>(table: Table<KT, VT>, joiner: (value: V, tableValue: VT | undefined, record: StreamRecord<K, V>) => VR, options: JoinOptions<K, V, KT> = {}): Stream<K, VR> {
    return this.#join(table, joiner, true, options);
  }

  #join<KT, VT, VR>(table: Table<KT, VT>, joiner: (value: V, tableValue: VT | undefined, record: StreamRecord<K, V>) => VR, left: boolean, options: JoinOptions<K, V, KT>): Stream<K, VR> {
    const op = left ? 'leftJoin()' : 'join()';
    if (typeof table?.store !== 'string' || typeof table.kind !== 'string') throw invalidTopology(`${op}: the first argument must be a table`);
    assertFunction(op, joiner);
    if (options.key !== undefined) {
      assertFunction(`${op}.key`, options.key);
      if (table.kind !== 'global') throw invalidTopology(`${op}: options.key is for global tables only; re-key and repartition the stream to join a co-partitioned table by another key`);
    }
    const s = table.kind !== 'global' && this.keyChanged ? this.repartition({ key: (this.#codecs.key ?? table.keyCodec) as Codec<K> }) : this;
    const supplier = joinProcessor<K, V, KT, VT, VR>(table.store, joiner, left, options.key);
    const node = { kind: 'process', name: options.name, supplier, stores: Object.freeze([table.store]) } as const;
    return s.#add(node as ChildSpec, { key: s.#codecs.key as Codec<K> | undefined }, false);
  }

  /**
   * Writes the stream through an internal topic `<applicationId>-<name>-repartition`, so that records
   * are partitioned by their current key; the returned stream reads that topic (a new sub-topology).
   */
  repartition(options: RepartitionOptions<K, V> = {}): Stream<K, V> {
    const { key, value } = this.#sinkCodecs('repartition()', options);
    if (options.partitions !== undefined) assertInteger('repartition().partitions', options.partitions, 1, 100_000);
    const name = options.name ?? this.#builder.autoName('repartition');
    const sink = this.#builder.add({ kind: 'sink', name, parents: [this.node], topic: { name, internal: true }, keyCodec: key, valueCodec: value });
    if (options.partitions !== undefined) this.#builder.setRepartitionPartitions(sink, options.partitions);
    const source = this.#builder.add({ kind: 'source', name: `${sink}-source`, parents: [], topic: { name: sink, internal: true }, keyCodec: key, valueCodec: value, timestamp: undefined });
    return new Stream<K, V>(this.#builder, source, { key: key as Codec<K>, value: value as Codec<V> }, false);
  }

  /** Produces every record to `topic` (codecs default to the stream's own). */
  to(topic: string, options: CodecOptions<K, V> = {}): void {
    if (typeof topic !== 'string' || topic.length === 0) throw invalidTopology('to(): topic must be a non-empty string');
    const { key, value } = this.#sinkCodecs(`to('${topic}')`, options);
    this.#builder.add({ kind: 'sink', name: options.name, parents: [this.node], topic: { name: topic, internal: false }, keyCodec: key, valueCodec: value });
  }

  /** Calls `fn` for every record (awaited: a slow function slows the source). */
  forEach(fn: (record: StreamRecord<K, V>) => void | Promise<void>, options?: NamedOptions): void {
    assertFunction('forEach()', fn);
    this.#builder.add({ kind: 'forEach', name: options?.name, parents: [this.node], fn: fn as (r: AnyRecord) => void });
  }

  #sinkCodecs(path: string, options: CodecOptions<K, V>): { key: Codec<unknown>; value: Codec<unknown> } {
    const key = options.key ?? this.#codecs.key;
    const value = options.value ?? this.#codecs.value;
    if (key === undefined || value === undefined) {
      throw invalidTopology(`${path}: the ${key === undefined ? 'key' : 'value'} type changed since the source; pass its codec in the options`, { path });
    }
    assertCodec(`${path}.key`, key);
    assertCodec(`${path}.value`, value);
    return { key: key as Codec<unknown>, value: value as Codec<unknown> };
  }
}
