/**
 * Renders a topology as text, one line per node grouped by sub-topology, e.g.
 *
 *     Topology (errors: deserialization=skip, processing=fail)
 *       Sub-topology 0
 *         source  source-0  [telemetry]  --> filter-1
 *         filter  filter-1               --> to-2
 *         sink    to-2      [anomalies]
 *
 * A control stream prints in the sub-topology of the streams connected to it, as a `control` node
 * with its topic whose children are the `connect` nodes that apply its records.
 * Internal topics print as `<app>-<name>-repartition` with `<app>` left as a placeholder.
 */
import type { TopologyNode } from './nodes.ts';
import type { Topology } from './topology.ts';

function topicOf(node: TopologyNode): string {
  if (node.kind !== 'source' && node.kind !== 'sink' && node.kind !== 'control') return '';
  return node.topic.internal ? `[<app>-${node.topic.name}-repartition]` : `[${node.topic.name}]`;
}

function detail(node: TopologyNode): string {
  switch (node.kind) {
    case 'branch':
      return `branches: ${node.branches.map((b) => b.name).join(', ')}`;
    case 'mapAsync':
      return `concurrency: ${node.concurrency}`;
    case 'process':
      return node.stores === undefined || node.stores.length === 0 ? '' : `stores: ${node.stores.join(', ')}`;
    case 'connect':
      return `control: ${node.control}${node.stores === undefined || node.stores.length === 0 ? '' : `, stores: ${node.stores.join(', ')}`}`;
    default:
      return topicOf(node);
  }
}

/** The text of `topology.describe()`. */
export function describeTopology(topology: Topology): string {
  const { errors } = topology;
  const dlq = errors.deadLetterTopic === null ? '' : `, dead letters: ${errors.deadLetterTopic}`;
  const lines = [`Topology (errors: deserialization=${errors.deserialization}, processing=${errors.processing}${dlq})`];
  const width = Math.max(...topology.nodes.map((n) => n.name.length));
  topology.subtopologies().forEach((names, i) => {
    lines.push(`  Sub-topology ${i}`);
    for (const name of names) {
      const node = topology.node(name)!;
      const children = topology.children(name);
      const to = children.length > 0 ? `  --> ${children.join(', ')}` : '';
      const info = detail(node);
      lines.push(`    ${node.kind.padEnd(12)} ${name.padEnd(width)}${info === '' ? '' : `  ${info}`}${to}`.trimEnd());
    }
  });
  return lines.join('\n');
}
