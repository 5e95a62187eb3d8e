/**
 * An exponentially decayed event rate on an injected clock (the throughput metric). Each event
 * adds 1 to a weight that decays as e^(−Δt/τ); the rate is the weight divided by τ·(1 − e^(−T/τ)),
 * T being the time since the first event (at least 1 s), which removes the start-up bias: a steady
 * stream of r events/s reads r at once, and a stream that stops fades out over a few τ. This is the
 * exponentially weighted moving average of Unix load averages and Dropwizard Metrics' meters,
 * taken continuously in time rather than on fixed ticks.
 */

/** Events per second over roughly the last `windowMs` (τ) of a clock. */
export class DecayingRate {
  readonly #tauMs: number;
  #weight = 0;
  #last = Number.NaN;
  #first = Number.NaN;

  /** `windowMs`: the time constant τ in ms (> 0). */
  constructor(windowMs: number) {
    this.#tauMs = windowMs;
  }

  /** Counts `n` events at time `now` (ms). */
  add(n: number, now: number): void {
    if (Number.isNaN(this.#first)) {
      this.#first = now;
      this.#last = now;
    }
    this.#weight = this.#decayed(now) + n;
    this.#last = Math.max(this.#last, now);
  }

  /** The rate at time `now`, in events per second (0 before the first event). */
  perSecond(now: number): number {
    if (Number.isNaN(this.#first)) return 0;
    const span = Math.max(now - this.#first, 1_000);
    return (this.#decayed(now) * 1_000) / (this.#tauMs * -Math.expm1(-span / this.#tauMs));
  }

  #decayed(now: number): number {
    const dt = now - this.#last;
    return dt > 0 ? this.#weight * Math.exp(-dt / this.#tauMs) : this.#weight;
  }
}
