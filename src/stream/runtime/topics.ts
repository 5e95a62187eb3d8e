/**
 * Topics a running topology needs: input, output and control topics must exist (a clear error otherwise);
 * internal repartition topics and the dead-letter topic are created when missing.
 */
import { ErrorCode, SluiceError, isSluiceError } from '../../errors.ts';
import { ensureTopic } from '../../log/ensure-topic.ts';
import type { Admin } from '../../log/types.ts';
import { resolveTopic } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';

async function partitionsOf(admin: Admin, topic: string, role: string): Promise<number> {
  try {
    return (await admin.describeTopic(topic)).config.partitions;
  } catch (error) {
    if (isSluiceError(error, ErrorCode.LOG_UNKNOWN_TOPIC)) {
      throw new SluiceError(ErrorCode.LOG_UNKNOWN_TOPIC, `run(): ${role} topic '${topic}' does not exist; create it first`, { cause: error, details: { topic } });
    }
    throw error;
  }
}

/** Checks user topics and creates missing internal topics; returns every input topic's name. */
export async function prepareTopics(admin: Admin, topology: Topology, applicationId: string, internalPartitions: number | undefined): Promise<string[]> {
  let most = 1;
  for (const s of topology.sources()) if (!s.topic.internal) most = Math.max(most, await partitionsOf(admin, s.topic.name, 'input'));
  for (const s of topology.sinks()) if (!s.topic.internal) await partitionsOf(admin, s.topic.name, 'output');
  for (const c of topology.controls()) await partitionsOf(admin, c.topic.name, 'control');
  for (const t of topology.internalTopics()) {
    await ensureTopic(admin, resolveTopic(t, applicationId), { partitions: topology.repartitionPartitions.get(t.name) ?? internalPartitions ?? most });
  }
  const dlq = topology.errors.deadLetterTopic;
  if (dlq !== null) await ensureTopic(admin, dlq, { partitions: 1 });
  return topology.sourceTopics(applicationId);
}
