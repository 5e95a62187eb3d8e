/**
 * Event-level precision, recall and F1 at a threshold, reported beside NAB's score because NAB
 * counts every alarmed row outside a window as a separate false positive and rewards timing
 * (SCORING.md §12; Wu & Keogh, IEEE TKDE 2021; Singh & Olinsky, IJCNN 2017).
 *
 * Definitions (on scorable rows only, as NAB):
 * - an alarm is a maximal run of consecutive rows with score ≥ θ;
 * - an alarm is true when one of its rows lies inside a label window, false otherwise;
 * - a window is detected when one of its scorable rows has score ≥ θ.
 * precision = true alarms / alarms, recall = detected windows / windows, F1 their harmonic mean;
 * each is 0 when its denominator is 0.
 */
import { nabProbation } from './nab-profiles.ts';
import { windowIndexOfRows, type RowWindow } from './nab-windows.ts';

/** Event-level counts and ratios. */
export interface EventMetrics {
  readonly alarms: number;
  readonly trueAlarms: number;
  readonly falseAlarms: number;
  readonly windows: number;
  readonly detectedWindows: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** What {@link eventMetrics} reads of a series. */
export interface EventSeries {
  readonly scores: ArrayLike<number>;
  readonly windows: readonly RowWindow[];
  readonly probation?: number;
}

/** Event-level metrics of `series` at `threshold` (see the definitions above). */
export function eventMetrics(series: readonly EventSeries[], threshold: number): EventMetrics {
  let alarms = 0;
  let trueAlarms = 0;
  let windows = 0;
  let detectedWindows = 0;
  for (const s of series) {
    const n = s.scores.length;
    const win = windowIndexOfRows(n, s.windows);
    const detected = new Uint8Array(s.windows.length);
    let inAlarm = false;
    let alarmTrue = false;
    for (let i = Math.min(s.probation ?? nabProbation(n), n); i < n; i++) {
      const k = win[i]!;
      if (s.scores[i]! >= threshold) {
        if (!inAlarm) {
          inAlarm = true;
          alarmTrue = false;
          alarms++;
        }
        if (k >= 0) {
          detected[k] = 1;
          if (!alarmTrue) {
            alarmTrue = true;
            trueAlarms++;
          }
        }
      } else inAlarm = false;
    }
    windows += s.windows.length;
    for (const d of detected) detectedWindows += d;
  }
  const precision = alarms === 0 ? 0 : trueAlarms / alarms;
  const recall = windows === 0 ? 0 : detectedWindows / windows;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { alarms, trueAlarms, falseAlarms: alarms - trueAlarms, windows, detectedWindows, precision, recall, f1 };
}
