import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { storeModel } from '@storeedge/device-drivers';
import { checkoutActivity } from '../checkout/checkout-options.ts';
import { simulatorErrors } from '../errors.ts';
import { visionOptions } from '../vision/options.ts';
import { labelsActivity } from './labels-activity.ts';

const range = z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([lo, hi]) => lo <= hi, 'range must be [low, high]');

/** Shopper and staff activity at the shelves (ground truth is generated from it, seeded). */
export const shelfActivity = z.object({
  events: z.number().int().positive().max(1_000_000),
  meanGapMs: z.number().positive().default(1_500),
  mix: z
    .object({ pick: z.number().nonnegative(), putBack: z.number().nonnegative(), misplace: z.number().nonnegative() })
    .default({ pick: 0.6, putBack: 0.33, misplace: 0.07 }),
  maxUnitsPerPick: z.number().int().min(1).max(20).default(5),
  multiUnitShare: z.number().min(0).max(1).default(0.2),
  handleMs: range.default([800, 2_500]),
  trayQuietMs: z.number().nonnegative().default(2_500),
  restockBelowShare: z.number().min(0).max(1).default(0.25),
  restockHandleMs: range.default([3_000, 6_000]),
});

/**
 * The simulated shelf cameras of a checkout run (docs/vision-sim.md "Cameras in checkout runs"):
 * the renderer's knobs (`visionOptions`) plus `enabled`. Off unless a scenario turns it on, so a
 * scenario without the section runs as before; an unknown field is rejected like everywhere else.
 */
export const scenarioVision = visionOptions.extend({
  /** Render and send camera frames (one camera per bay that lists one in the store model). Default false. */
  enabled: z.boolean().default(false),
});

/** One HQ outage: the upstream broker is down from `startMs` for `lengthMs` (simulated ms from the scenario's start). */
export const hqOutage = z.strictObject({
  startMs: z.number().int().nonnegative(),
  lengthMs: z.number().int().positive(),
});

/**
 * The store's link to head office (docs/sync.md "The HQ-outage scenario"). A scenario with this
 * section runs a real Mosquitto as the upstream broker and an in-process reference HQ, and the
 * agent syncs to them; its report gets a `sync` field. `hqOutages` stop the broker for a while,
 * in simulated time (ascending, not overlapping); the scenario needs a `checkout` section, whose
 * device time places them.
 */
export const scenarioNetwork = z.strictObject({
  hqOutages: z
    .array(hqOutage)
    .max(100)
    .default([])
    .refine((outages) => outages.every((o, i) => i === 0 || o.startMs >= outages[i - 1]!.startMs + outages[i - 1]!.lengthMs), 'outages must be in ascending order and must not overlap'),
});

/**
 * A scenario file (simulators/scenarios/*.json): a seed, the store (catalog and layout, the
 * same store model the agent loads), the load-cell settings and the activity to simulate.
 * Sections other than these are rejected, so a typo does not silently fall back to a default.
 */
export const scenarioFile = z
  .object({
    scenario: z.string().min(1).max(120),
    description: z.string().max(2_000).optional(),
    seed: z.number().int(),
    store: storeModel,
    shelves: z
      .object({
        /** Weight of an empty tray on its cell. */
        tareG: z.number().nonnegative().default(350),
        /** Load-cell noise options (simulators/src/signal: sample rate, σ, drift, creep, bursts, cross-talk, settling). */
        loadCells: z.record(z.string(), z.unknown()).default({}),
      })
      .default({ tareG: 350, loadCells: {} }),
    shelfActivity: shelfActivity.optional(),
    /** Walk-out checkout: visits, shoppers' behaviour at the shelves and the tracker (simulators/src/checkout). */
    checkout: checkoutActivity.optional(),
    /** Shelf cameras in checkout runs (simulators/src/vision, checkout/cameras.ts); absent = no cameras. */
    vision: scenarioVision.optional(),
    /** Shelf labels: generated labels, gateways' radio, price changes, restarts, purchases (scenario/labels-activity.ts). */
    labels: labelsActivity.optional(),
    /** The link to HQ and its outages (scenarioNetwork); absent = the store runs without HQ. */
    network: scenarioNetwork.optional(),
  })
  .strict()
  .refine((s) => s.network === undefined || s.checkout !== undefined, { path: ['network'], message: 'HQ outages are placed in checkout device time: a scenario with `network` needs a `checkout` section' });

export type ScenarioFile = z.infer<typeof scenarioFile>;
export type ShelfActivity = z.infer<typeof shelfActivity>;
export type ScenarioVision = z.output<typeof scenarioVision>;
export type ScenarioVisionInput = z.input<typeof scenarioVision>;
export type ScenarioNetwork = z.output<typeof scenarioNetwork>;
export type HqOutage = z.output<typeof hqOutage>;

/** Reads and validates a scenario file; errors name the file and the field. */
export function loadScenarioFile(path: string): ScenarioFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseScenario(json, path);
}

export function parseScenario(json: unknown, source = 'scenario'): ScenarioFile {
  const parsed = scenarioFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
