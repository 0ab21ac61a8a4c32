/**
 * Prints the figures quoted in docs/rfid-presence.md:
 *   npx tsx edge-agent/test/inventory/rfid/measure.ts [seed]
 * Simulated time only; the same seed prints the same figures.
 */
import { defaultScenario, type ScenarioOptions } from './read-generator.ts';
import { runScenario, type LatencyFigures, type PresenceFigures } from './presence-statistics.ts';

const seed = process.argv[2] ?? defaultScenario.seed;
const variants: Array<[string, ScenarioOptions, Record<string, unknown>]> = [
  ['RSSI reported (defaults)', { ...defaultScenario, seed }, {}],
  ['no RSSI (counts only)', { ...defaultScenario, seed, withRssi: false }, {}],
  ['cross-reads only 6–12 dB weaker', { ...defaultScenario, seed, crossReadDropDb: [6, 12] }, {}],
  ['poor reads: p = 0.4–0.6', { ...defaultScenario, seed, readRate: [0.4, 0.6] }, {}],
];

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const s = (l: LatencyFigures) => `median ${(l.medianMs / 1000).toFixed(1)} s, p95 ${(l.p95Ms / 1000).toFixed(1)} s, max ${(l.maxMs / 1000).toFixed(1)} s (n=${l.count})`;

for (const [name, scenario, options] of variants) {
  const f: PresenceFigures = runScenario(scenario, options);
  console.log(`\n## ${name} — seed "${seed}", ${f.tags} tags, ${f.durationMs / 60_000} min, settle ${f.settleMs / 1000} s`);
  console.log(`zone accuracy (tag-time in the right zone): ${pct(f.zoneAccuracy)} (${f.zoneCorrect}/${f.zoneSamples} tag-seconds)`);
  console.log(`ghosts (present while not in the store): ${f.ghostSamples}/${f.absentSamples} tag-seconds`);
  console.log(`events: ${f.observedEvents} for ${f.expectedEvents} true changes; extra ${f.extraEvents} on ${f.tagsWithExtraEvents} tags, worst tag +${f.maxExtraEventsPerTag}`);
  console.log(`moves: ${f.moves.asMove}/${f.moves.total} as one 'moved', ${f.moves.asDepartedArrived} as departed+arrived, ${f.moves.missed} missed; latency ${s(f.moves.latency)}`);
  console.log(`arrivals: ${f.arrivals.detected}/${f.arrivals.total}; latency ${s(f.arrivals.latency)}`);
  console.log(`exits: ${f.exits.detected}/${f.exits.total} detected, ${f.exits.falseExits} false; latency from entering the portal ${s(f.exits.latency)}`);
  const raw = runScenario(scenario, options, 0);
  console.log(`zone accuracy with no settle time (transitions counted as errors): ${pct(raw.zoneAccuracy)}`);
  const st = f.stats;
  console.log(`counters: reads ${st.reads}, counted ${st.counted}, duplicates ${st.duplicates}, cross-reads ${st.crossReads}, rejected ${st.rejected}, late ${st.late}`);
}
