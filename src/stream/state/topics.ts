/**
 * Topics of state stores, checked or created by `run()` before the application joins its group:
 * - each changelog `<applicationId>-<store>-changelog` is created compacted, with as many partitions
 *   as the source topic whose tasks own the store (an existing one must have at least as many);
 * - a table's topic must exist with exactly as many partitions as the source that joins it
 *   (co-partitioning: task n reads partition n of both, and the same key lands on the same partition
 *   number only when the counts match); otherwise the error says to repartition the stream;
 * - a global table's topic must exist (any partition count).
 */
import { ErrorCode, SluiceError, isSluiceError } from '../../errors.ts';
import { ensureTopic } from '../../log/ensure-topic.ts';
import type { Admin } from '../../log/types.ts';
import { resolveTopic } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import { changelogTopic } from './spec.ts';
import { storeOwners } from './wiring.ts';

async function partitions(admin: Admin, topic: string, role: string): Promise<number | null> {
  try {
    return (await admin.describeTopic(topic)).config.partitions;
  } catch (error) {
    if (!isSluiceError(error, ErrorCode.LOG_UNKNOWN_TOPIC)) throw error;
    if (role === '') return null;
    throw new SluiceError(ErrorCode.LOG_UNKNOWN_TOPIC, `run(): ${role} topic '${topic}' does not exist; create it first`, { cause: error, details: { topic } });
  }
}

/** Creates missing changelog topics and checks table topics (call after the internal topics exist). */
export async function prepareStateTopics(admin: Admin, topology: Topology, applicationId: string): Promise<void> {
  const owners = storeOwners(topology.nodes, topology.stores);
  for (const spec of topology.stores.values()) {
    if (spec.kind === 'global') {
      await partitions(admin, spec.topic!, 'global table');
      continue;
    }
    const owner = owners.get(spec.name);
    if (owner === undefined) continue;
    const ownerTopic = resolveTopic(owner.topic, applicationId);
    const needed = (await partitions(admin, ownerTopic, 'input'))!;
    if (spec.kind === 'table') {
      const have = (await partitions(admin, spec.topic!, 'table'))!;
      if (have !== needed) {
        throw new SluiceError(
          ErrorCode.STREAM_INVALID_TOPOLOGY,
          `run(): table '${spec.name}' (topic '${spec.topic}', ${have} partitions) is joined by the tasks of '${ownerTopic}' (${needed} partitions); a stream–table join needs co-partitioned topics — repartition the stream with repartition({ partitions: ${have} }) before the join`,
          { details: { store: spec.name, topic: spec.topic, partitions: have, stream: ownerTopic, streamPartitions: needed } },
        );
      }
      continue;
    }
    if (!spec.changelog) continue;
    const topic = changelogTopic(applicationId, spec.name);
    const existing = await partitions(admin, topic, '');
    if (existing === null) {
      await ensureTopic(admin, topic, { partitions: needed, cleanupPolicy: 'compact' });
    } else if (existing < needed) {
      throw new SluiceError(ErrorCode.STREAM_INVALID_TOPOLOGY, `run(): changelog '${topic}' has ${existing} partitions, fewer than the ${needed} of '${ownerTopic}'`, { details: { topic } });
    }
  }
}
