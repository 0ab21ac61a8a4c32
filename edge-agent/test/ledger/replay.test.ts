import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@storeedge/simulators/random.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { AppendInput } from '../../src/ledger/types.ts';
import { steppingClock } from './ledger.contract.ts';
import { randomTallyInput, tallyProjection, tallySnapshot } from './fixtures/tally-projection.ts';

const eventCount = 3000;

describe('replay', () => {
  let dir = '';
  const opened: Ledger[] = [];
  const open = (file: string) => {
    const ledger = Ledger.open(file, { now: steppingClock(), projections: [tallyProjection] });
    opened.push(ledger);
    return ledger;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-replay-'));
  });
  afterEach(() => {
    for (const ledger of opened.splice(0)) ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends `eventCount` seeded events: singly, in batches, in caller transactions, with retries. */
  function fill(ledger: Ledger, seed: string): number {
    const rng = new Rng(seed);
    const sent: AppendInput[] = [];
    let i = 0;
    while (i < eventCount) {
      const mode = rng.int(0, 3);
      if (mode === 0) {
        const batch = Array.from({ length: Math.min(rng.int(2, 20), eventCount - i) }, () => randomTallyInput(rng, i++));
        ledger.appendMany(batch);
        sent.push(...batch);
      } else if (mode === 1) {
        const input = randomTallyInput(rng, i++);
        ledger.transaction(() => ledger.append(input));
        sent.push(input);
      } else {
        const input = randomTallyInput(rng, i++);
        ledger.append(input);
        sent.push(input);
      }
      // A retried earlier append (at-least-once producers) must not count twice.
      if (rng.chance(0.05)) expect(ledger.append(rng.pick(sent)).duplicate).toBe(true);
    }
    return sent.length;
  }

  it('rebuilds the projection exactly, on this connection and on a second one', () => {
    const file = join(dir, 'ledger.db');
    const ledger = open(file);
    expect(fill(ledger, 'ledger-replay')).toBe(eventCount);

    const live = tallySnapshot(ledger.db);
    // The snapshot must be worth comparing.
    expect(live.streams).toHaveLength(5);
    expect(live.values.length).toBeGreaterThan(20);

    // Damage the read model so a replay that did nothing could not pass.
    ledger.db.exec("UPDATE tally_streams SET total = total + 1; DELETE FROM tally_values WHERE name < 'name-3'; INSERT INTO tally_values VALUES ('stray', '0', 0, 0)");
    expect(tallySnapshot(ledger.db)).not.toEqual(live);

    expect(ledger.replay()).toEqual({ events: eventCount });
    expect(tallySnapshot(ledger.db)).toEqual(live);

    const second = open(file);
    expect(second.replay()).toEqual({ events: eventCount });
    expect(tallySnapshot(second.db)).toEqual(live);
    expect(tallySnapshot(ledger.db)).toEqual(live);
  });

  it('gives the same projection from the same seeded input (in memory)', () => {
    const a = open(':memory:');
    const b = open(':memory:');
    fill(a, 'same-seed');
    fill(b, 'same-seed');
    expect(a.head()).toEqual(b.head());
    expect(tallySnapshot(a.db)).toEqual(tallySnapshot(b.db));
    a.replay();
    expect(tallySnapshot(a.db)).toEqual(tallySnapshot(b.db));
  });
});
