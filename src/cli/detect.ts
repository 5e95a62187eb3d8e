/**
 * `sluice detect`: tries a detector on a user's CSV history. Fits on the first N rows (0: purely
 * online), scores the rest one row at a time, decides with the post-processor, and writes every input
 * row back with `anomaly_score` (0..1) and `is_anomaly` (0/1) added.
 */
import { writeFileSync } from 'node:fs';
import { ErrorCode, SluiceError } from '../errors.ts';
import { readCsvTable } from '../model/eval/csv-table.ts';
import { formatDetectCsv, runDetect } from '../model/eval/detect-run.ts';
import { createDecider } from '../model/postprocess.ts';
import { DEFAULT_DETECTOR, detectorFactories, getDetectorFactory } from '../model/registry.ts';
import type { DetectorFactory } from '../model/types.ts';
import { UsageError, intFlag, expectPositionals, parseCommand, stringFlag } from './args.ts';
import type { Command } from './command.ts';
import { count, out } from './output.ts';

const USAGE = `Usage: sluice detect --input FILE.csv --output OUT.csv [--columns a,b] [--train-rows N] [--detector NAME]

Scores a CSV of history with a detector, as the streaming service would: fits on the first N rows
(0: purely online), then scores the remaining rows one at a time and decides with the
post-processor. Writes every input row with anomaly_score (0..1) and is_anomaly (0/1) added; the
training rows get 0 and 0.

Input: comma- or semicolon-separated, a header row, a timestamp column (ISO date-time, UTC unless it
has a zone, or epoch seconds/milliseconds) and numeric columns; with several numeric columns every
row is one multivariate observation. Empty or non-numeric cells are passed on as missing (NaN).

Flags:
  --input FILE        the CSV to score (required)
  --output FILE       where to write the scored CSV (required)
  --columns a,b       numeric columns to use (default: every column with numbers but the timestamp)
  --timestamp NAME    the timestamp column (default: timestamp/time/ts/date/datetime, else the first)
  --train-rows N      rows to fit on before scoring (default 0)
  --detector NAME     detector (default ${DEFAULT_DETECTOR}); one of: ${[...detectorFactories.keys()].sort().join(', ')}

Example:
  sluice detect --input sensors.csv --output scored.csv --columns temp,vibration --train-rows 1000`;

const FLAGS = {
  input: { type: 'string' },
  output: { type: 'string' },
  columns: { type: 'string' },
  timestamp: { type: 'string' },
  'train-rows': { type: 'string' },
  detector: { type: 'string' },
} as const;

/** The `detect` command. */
export const detectCommand: Command = {
  name: 'detect',
  summary: 'score a CSV file with a detector (adds anomaly_score and is_anomaly)',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(args, FLAGS, USAGE);
    expectPositionals(parsed, [], USAGE);
    const input = stringFlag(parsed, 'input');
    const output = stringFlag(parsed, 'output');
    if (input === undefined) throw new UsageError('missing --input FILE.csv', USAGE);
    if (output === undefined) throw new UsageError('missing --output OUT.csv', USAGE);
    const columnsFlag = stringFlag(parsed, 'columns');
    const columns = columnsFlag?.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (columns !== undefined && columns.length === 0) throw new UsageError('--columns needs at least one column name', USAGE);
    const timestampColumn = stringFlag(parsed, 'timestamp');
    const trainRows = intFlag(parsed, 'train-rows', USAGE, { min: 0 }) ?? 0;
    const detector = stringFlag(parsed, 'detector') ?? DEFAULT_DETECTOR;
    const factory = getDetectorFactory(detector);

    const tableData = readCsvTable(input, { ...(columns === undefined ? {} : { columns }), ...(timestampColumn === undefined ? {} : { timestampColumn }) });
    if (trainRows > tableData.lines.length) throw new UsageError(`--train-rows ${trainRows} exceeds the ${tableData.lines.length} data rows of ${input}`, USAGE);
    const result = runDetect({ table: tableData, factory, trainRows, decider: deciderFor(factory) });
    try {
      writeFileSync(output, formatDetectCsv(tableData, result));
    } catch (error) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${output}: cannot write (${(error as Error).message})`, { cause: error, details: { path: output } });
    }
    const anomalies = result.anomalies.reduce((a, b) => a + b, 0);
    out(
      `${detector}: scored ${count(tableData.lines.length - trainRows)} rows of ${input} (columns ${tableData.columns.join(', ')}; fitted on ${count(trainRows)}): ` +
        `${count(anomalies)} anomal${anomalies === 1 ? 'y' : 'ies'} → ${output}`,
    );
    return 0;
  },
};

/**
 * The decider for `is_anomaly`: a detector whose scores are already likelihoods is thresholded at
 * its own alarm level; the others' raw scores go through the likelihood calibration.
 */
function deciderFor(factory: DetectorFactory): ReturnType<typeof createDecider> {
  const alarm = factory.calibrated?.alarm;
  return alarm === undefined ? createDecider() : createDecider({ calibration: 'none', high: alarm, low: alarm, warmup: 0 });
}
