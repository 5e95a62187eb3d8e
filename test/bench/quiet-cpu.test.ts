/**
 * The benchmarks pin a latency-sensitive process to the core that has handled the fewest device
 * interrupts (bench/quiet-cpu.ts): /proc/interrupts is summed per CPU over the numbered (device)
 * lines only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deviceInterruptsPerCpu, quietestCpu } from '../../bench/quiet-cpu.ts';

const SAMPLE = `           CPU0       CPU1
  1:          9          0   IO-APIC   1-edge      i8042
 31:          0       9912   PCI-MSIX-0000:00:01.0   3-edge      virtio0-stats
 32:       2723          0   PCI-MSIX-0000:00:01.0   4-edge      virtio0-reporting_vq
 36:          0   13506181   PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0
NMI:          0          0   Non-maskable interrupts
LOC:   90000000   80000000   Local timer interrupts
RES:    1000000    2000000   Rescheduling interrupts
ERR:          0
`;

test('device interrupts are summed per CPU from the numbered lines only', () => {
  assert.deepEqual(deviceInterruptsPerCpu(SAMPLE), [9 + 2723, 9912 + 13506181]);
});

test('on this machine: the CPU with the fewest device interrupts, or the fallback where none can be read', () => {
  let totals: number[] = [];
  try {
    totals = deviceInterruptsPerCpu(readFileSync('/proc/interrupts', 'utf8'));
  } catch {
    // Not Linux: no /proc/interrupts.
  }
  const cpu = quietestCpu(2, 1);
  if (totals.length < 2) assert.equal(cpu, 1);
  else assert.equal(totals[cpu], Math.min(totals[0]!, totals[1]!));
});
