/**
 * Materialises the part of a topology a task runs: the nodes reachable from the task's source,
 * each with a fresh processor instance, wired parent → children. A node reached by several paths
 * (a merge after a branch) is created once.
 */
import type { SourceNode } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import { ProcessorNode } from './node.ts';
import { createProcessor } from './operators.ts';
import type { TaskServices } from './services.ts';

/** The processor graph of one task. */
export interface TaskGraph {
  readonly source: ProcessorNode;
  /** Every node, parents before children (the order of flushes). */
  readonly nodes: readonly ProcessorNode[];
}

/** Builds the graph under `source` for a task; calls every processor's `init`. */
export function buildGraph(topology: Topology, source: SourceNode, services: TaskServices): TaskGraph {
  const reachable = new Set<string>([source.name]);
  for (const node of topology.nodes) {
    if (node.parents.some((p) => reachable.has(p))) reachable.add(node.name);
  }
  const nodes = new Map<string, ProcessorNode>();
  for (const node of topology.nodes) {
    if (!reachable.has(node.name)) continue;
    const pn = new ProcessorNode(node.name, services);
    nodes.set(node.name, pn);
    for (const p of node.parents) nodes.get(p)?.children.push(pn);
  }
  for (const node of topology.nodes) {
    const pn = nodes.get(node.name);
    if (pn !== undefined) pn.init(createProcessor(node, services));
  }
  return { source: nodes.get(source.name)!, nodes: [...nodes.values()] };
}
