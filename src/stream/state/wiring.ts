/**
 * Which stores a task has: the stores declared by the `process` nodes reachable from the task's
 * source. A task is one partition of one source topic, so a task-local store (keyValue or table)
 * must be reachable from exactly one source — otherwise two tasks (maybe on two instances) would
 * both write partition n of its changelog. `validateStores` checks that when the topology is built.
 */
import type { SourceNode, TopologyNode } from '../topology/nodes.ts';
import { invalidTopology } from '../topology/validate.ts';
import type { StoreSpec } from './spec.ts';

/** Names of the nodes reachable from `source` (nodes are in parents-before-children order). */
export function reachableFrom(nodes: readonly TopologyNode[], source: string): Set<string> {
  const reachable = new Set<string>([source]);
  for (const node of nodes) if (node.parents.some((p) => reachable.has(p))) reachable.add(node.name);
  return reachable;
}

/** The stores a node declares (only `process` and `connect` nodes declare any). */
export function storesOfNode(node: TopologyNode): readonly string[] {
  return node.kind === 'process' || node.kind === 'connect' ? (node.stores ?? []) : [];
}

/** The names of the stores used by the task of `source`. */
export function storesOfTask(nodes: readonly TopologyNode[], source: string): string[] {
  const reachable = reachableFrom(nodes, source);
  const out = new Set<string>();
  for (const node of nodes) if (reachable.has(node.name)) for (const s of storesOfNode(node)) out.add(s);
  return [...out];
}

/** The source whose tasks own each task-local store. */
export function storeOwners(nodes: readonly TopologyNode[], stores: ReadonlyMap<string, StoreSpec>): Map<string, SourceNode> {
  const owners = new Map<string, SourceNode>();
  for (const source of nodes) {
    if (source.kind !== 'source') continue;
    for (const name of storesOfTask(nodes, source.name)) {
      const spec = stores.get(name);
      if (spec === undefined || spec.kind === 'global') continue;
      const other = owners.get(name);
      if (other !== undefined && other.name !== source.name) {
        throw invalidTopology(
          `store '${name}' is used by the tasks of two sources ('${other.name}' and '${source.name}'); a task-local store belongs to one source — repartition or merge before the stateful step`,
          { store: name },
        );
      }
      owners.set(name, source);
    }
  }
  return owners;
}

/** Checks that every declared store exists and belongs to one source (STREAM_INVALID_TOPOLOGY). */
export function validateStores(nodes: readonly TopologyNode[], stores: ReadonlyMap<string, StoreSpec>): void {
  for (const node of nodes) {
    for (const name of storesOfNode(node)) {
      if (!stores.has(name)) throw invalidTopology(`node '${node.name}' uses store '${name}', which was not added: call addStore({ name: '${name}', … })`, { node: node.name });
    }
  }
  storeOwners(nodes, stores);
}
