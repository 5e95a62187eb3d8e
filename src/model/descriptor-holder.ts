/**
 * The "an invalid model never replaces a valid one" rule (DESIGN.md §3) as a small holder: offer it
 * descriptors (from the `models` topic, the store, a file); it swaps to one only after it parsed,
 * validated and loaded completely, and only if it is newer than the one held. Whatever is wrong with
 * an offer is returned as a typed error, never thrown, and the held model stays.
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import { loadModelAsync, type LoadModelOptions } from './descriptor-load.ts';
import { parseDescriptor } from './descriptor-parse.ts';
import type { ModelDescriptor } from './descriptor.ts';
import type { DetectorModel } from './types.ts';

/** A descriptor and the model built from it. */
export interface LoadedModel {
  readonly descriptor: ModelDescriptor;
  readonly model: DetectorModel;
}

/** What {@link ModelHolder.offer} did. */
export type OfferResult =
  | { readonly accepted: true; readonly loaded: LoadedModel }
  | { readonly accepted: false; readonly error: SluiceError };

/** Holds the current valid model of one name (see the file comment). */
export interface ModelHolder {
  /** The model held, or null before the first accepted offer. */
  readonly current: LoadedModel | null;
  /**
   * Validates and loads `descriptor` (JSON text or a parsed value); holds it if it is valid, has the
   * held name (when one is held, or `options.name`) and a higher version. Never throws.
   */
  offer(descriptor: unknown): Promise<OfferResult>;
}

/** Options of {@link createModelHolder}: loading options plus the one model name accepted (default: the first accepted). */
export interface ModelHolderOptions extends LoadModelOptions {
  readonly name?: string;
}

/** A fresh holder (see {@link ModelHolder}). */
export function createModelHolder(options: ModelHolderOptions): ModelHolder {
  let current: LoadedModel | null = null;
  return {
    get current() {
      return current;
    },
    async offer(json: unknown): Promise<OfferResult> {
      try {
        const descriptor = parseDescriptor(json, { ...options, validateParams: false });
        const name = current?.descriptor.name ?? options.name;
        if (name !== undefined && descriptor.name !== name) {
          throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `model holder of '${name}' offered model '${descriptor.name}'`, { details: { name: descriptor.name } });
        }
        if (current !== null && descriptor.version <= current.descriptor.version) {
          throw new SluiceError(
            ErrorCode.MODEL_VERSION_CONFLICT,
            `model '${descriptor.name}' v${descriptor.version} is not newer than the held v${current.descriptor.version}`,
            { details: { name: descriptor.name, version: descriptor.version, held: current.descriptor.version } },
          );
        }
        const model = await loadModelAsync(descriptor, options);
        current = { descriptor, model };
        return { accepted: true, loaded: current };
      } catch (error) {
        const typed = isSluiceError(error) ? error : new SluiceError(ErrorCode.MODEL_INVALID, `model rejected: ${String((error as Error)?.message ?? error)}`, { cause: error });
        return { accepted: false, error: typed };
      }
    },
  };
}
