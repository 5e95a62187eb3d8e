/**
 * A topology: the immutable description of a stream application (DESIGN.md §6.2, "describe, then
 * run"). It is a graph of frozen {@link TopologyNode}s; `run()` or the test driver materialise it.
 * Sub-topologies are the connected parts of the graph; repartition topics cut the graph between
 * them (a repartition sink ends one, its source starts another).
 */
import type { StoreSpec } from '../state/spec.ts';
import type { ErrorPolicy } from './error-policy.ts';
import { describeTopology } from './describe.ts';
import { resolveTopic, type ControlNode, type SinkNode, type SourceNode, type TopicRef, type TopologyNode } from './nodes.ts';

/** An immutable stream topology, built by {@link topology}. */
export class Topology {
  /** Every node, parents before children. */
  readonly nodes: readonly TopologyNode[];
  /** What happens to bad records and failing user functions. */
  readonly errors: ErrorPolicy;
  /** Partition count of each internal repartition topic that set one (logical name → count). */
  readonly repartitionPartitions: ReadonlyMap<string, number>;
  /** State stores, tables and global tables, by store name. */
  readonly stores: ReadonlyMap<string, StoreSpec>;
  readonly #byName: ReadonlyMap<string, TopologyNode>;
  readonly #children: ReadonlyMap<string, readonly string[]>;
  readonly #subtopologies: readonly (readonly string[])[];

  /** Made by the builder; use {@link topology} instead. */
  constructor(options: {
    nodes: readonly TopologyNode[];
    errors: ErrorPolicy;
    repartitionPartitions: ReadonlyMap<string, number>;
    stores?: ReadonlyMap<string, StoreSpec>;
  }) {
    this.nodes = Object.freeze([...options.nodes]);
    this.errors = options.errors;
    this.repartitionPartitions = new Map(options.repartitionPartitions);
    this.stores = new Map(options.stores ?? []);
    this.#byName = new Map(this.nodes.map((n) => [n.name, n]));
    const children = new Map<string, string[]>(this.nodes.map((n) => [n.name, []]));
    for (const n of this.nodes) for (const p of n.parents) children.get(p)!.push(n.name);
    this.#children = children;
    this.#subtopologies = components(this.nodes);
    Object.freeze(this);
  }

  /** The node called `name` (undefined if none). */
  node(name: string): TopologyNode | undefined {
    return this.#byName.get(name);
  }

  /** Names of the nodes fed by `name`, in the order they were added. */
  children(name: string): readonly string[] {
    return this.#children.get(name) ?? [];
  }

  /** The connected parts of the graph, each a list of node names; numbered by position. */
  subtopologies(): readonly (readonly string[])[] {
    return this.#subtopologies;
  }

  /** Every source node. */
  sources(): readonly SourceNode[] {
    return this.nodes.filter((n): n is SourceNode => n.kind === 'source');
  }

  /** Every control node (control streams: topics broadcast to every task). */
  controls(): readonly ControlNode[] {
    return this.nodes.filter((n): n is ControlNode => n.kind === 'control');
  }

  /** Every sink node (user topics and repartition topics). */
  sinks(): readonly SinkNode[] {
    return this.nodes.filter((n): n is SinkNode => n.kind === 'sink');
  }

  /** The source node reading `topic` (a resolved name) for `applicationId`. */
  sourceFor(topic: string, applicationId: string): SourceNode | undefined {
    return this.sources().find((s) => resolveTopic(s.topic, applicationId) === topic);
  }

  /** Resolved names of all input topics (user and internal), sorted. */
  sourceTopics(applicationId: string): string[] {
    return [...new Set(this.sources().map((s) => resolveTopic(s.topic, applicationId)))].sort();
  }

  /** Internal topics (repartition topics) the runtime creates. */
  internalTopics(): readonly TopicRef[] {
    return this.sources().filter((s) => s.topic.internal).map((s) => s.topic);
  }

  /** A readable description of the graph, by sub-topology (like Kafka Streams' `describe()`). */
  describe(): string {
    return describeTopology(this);
  }
}

function components(nodes: readonly TopologyNode[]): string[][] {
  const parent = new Map<string, string>(nodes.map((n) => [n.name, n.name]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const n of nodes) for (const p of n.parents) parent.set(find(n.name), find(p));
  const groups = new Map<string, string[]>();
  for (const n of nodes) {
    const root = find(n.name);
    const list = groups.get(root) ?? [];
    list.push(n.name);
    groups.set(root, list);
  }
  return [...groups.values()];
}
