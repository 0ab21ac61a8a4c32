import { storeModel, trayPlacements, type StoreModel } from '@storeedge/device-drivers';
import { gtinCheckDigit, Rng, ShelfLoadModel, weightPayloads, type HandAction, type LoadCellNoiseOptions } from '@storeedge/simulators';
import type { ShelfChange } from '../../../src/events.ts';
import { WeightPipeline, type WeightPipelineOptionsInput, type WeightReject } from '../../../src/inventory/weight/index.ts';

/** One shelf of trays on controller "ctl-1" (channel = position), each with its SKUs (grams, σ), and 20 units per SKU. */
export function shelfStore(trays: Array<Array<[sku: string, unitWeightG: number, unitWeightSigmaG: number]>>): StoreModel {
  const catalog = trays.flat().map(([sku, unitWeightG, unitWeightSigmaG], i) => {
    const data = `200${String(i + 1).padStart(10, '0')}`;
    return { sku, gtin: `${data}${gtinCheckDigit(data)}`, name: sku, unitWeightG, unitWeightSigmaG, priceMinor: 100 };
  });
  return storeModel.parse({
    catalog,
    zones: [{ id: 'z' }],
    gondolas: [
      {
        id: 'g',
        zone: 'z',
        bays: [
          {
            id: 'b',
            shelves: [
              {
                id: 's',
                trays: trays.map((skus, i) => ({
                  id: `t${i}`,
                  device: 'ctl-1',
                  channel: i,
                  facings: skus.map(([sku]) => ({ sku, capacity: 40, minLevel: 2, initial: 20 })),
                })),
              },
            ],
          },
        ],
      },
    ],
  });
}

/** The quiet noise model: only white noise σ (and what the test turns on). */
export function quietNoise(extra: LoadCellNoiseOptions = {}): LoadCellNoiseOptions {
  return { noiseSigmaG: 2, driftGPerSqrtHour: 0, creepFraction: 0, bursts: null, crossTalk: null, ...extra };
}

/** A shelf driven by the simulators' load-cell model into a WeightPipeline, in simulated time. */
export class ShelfRig {
  readonly model: StoreModel;
  readonly cells: ShelfLoadModel;
  readonly pipeline: WeightPipeline;
  readonly changes: Array<ShelfChange & { emittedAt: number }> = [];
  readonly rejects: WeightReject[] = [];
  readonly #periodMs: number;
  #t = 0;
  #seq = 0;

  constructor(
    model: StoreModel,
    options: {
      noise?: LoadCellNoiseOptions;
      seed?: number | string;
      pipeline?: WeightPipelineOptionsInput;
      declaredRestocks?: (trayId: string) => ReadonlyMap<string, number>;
      misplacedUnits?: (trayId: string) => ReadonlyMap<string, number>;
    } = {},
  ) {
    this.model = model;
    const catalog = new Map(model.catalog.map((c) => [c.sku, c]));
    this.cells = new ShelfLoadModel({
      trays: trayPlacements(model).map((p) => ({
        id: p.tray.id,
        tareG: 400,
        loadG: p.tray.facings.reduce((sum, f) => sum + f.initial * catalog.get(f.sku)!.unitWeightG, 0),
        neighbours: p.neighbours,
        burstGroup: p.shelf,
      })),
      noise: options.noise ?? quietNoise(),
      random: new Rng(options.seed ?? 1),
    });
    this.pipeline = new WeightPipeline({
      model,
      options: options.pipeline,
      onReject: (r) => this.rejects.push(r),
      ...(options.declaredRestocks ? { declaredRestocks: options.declaredRestocks } : {}),
      ...(options.misplacedUnits ? { misplacedUnits: options.misplacedUnits } : {}),
    });
    this.#periodMs = 1_000 / this.cells.noise.sampleRateHz;
  }

  /** Time of the next sample, ms. */
  get now(): number {
    return this.#t;
  }

  handle(trayId: string, action: HandAction): this {
    this.cells.handle(trayId, action);
    return this;
  }

  /** Samples every tray up to `untilMs` and feeds the pipeline. */
  run(untilMs: number): this {
    const channels = trayPlacements(this.model).map((p) => ({ trayId: p.tray.id, deviceId: p.tray.device, channel: p.tray.channel }));
    for (; this.#t <= untilMs; this.#t += this.#periodMs) {
      for (const { deviceId, payload } of weightPayloads(this.cells.sample(this.#t), channels, this.#t, this.#seq++)) {
        for (const change of this.pipeline.push(deviceId, payload)) this.changes.push({ ...change, emittedAt: this.#t });
      }
    }
    return this;
  }
}
