import { resolve } from 'node:path';
import { checkoutActivity, type CheckoutActivity, type CheckoutActivityInput } from '../../src/checkout/checkout-options.ts';
import { CheckoutScript } from '../../src/checkout/checkout-script.ts';
import { Rng } from '../../src/random.ts';
import { loadScenarioFile, type ScenarioFile } from '../../src/scenario/scenario-file.ts';

export const suiteDir = resolve(import.meta.dirname, '../../scenarios');

/** A scenario of the checkout suite by case name (checkout-<name>.json). */
export function suiteScenario(name: string): ScenarioFile {
  return loadScenarioFile(`${suiteDir}/checkout-${name}.json`);
}

/** The scenario with its checkout section changed (the changes are parsed, so defaults fill in). */
export function withCheckout(scenario: ScenarioFile, changes: CheckoutActivityInput, seed = scenario.seed): ScenarioFile {
  const checkout: CheckoutActivity = checkoutActivity.parse({ ...scenario.checkout, ...changes });
  return { ...scenario, seed, checkout };
}

/** The ground-truth script the runner would make for the scenario. */
export function scriptOf(scenario: ScenarioFile): CheckoutScript {
  return new CheckoutScript(scenario.store, scenario.checkout!, new Rng(scenario.seed).fork('checkout'));
}

/** Mix weights all 0 but a plain pick. */
export const PICKS_ONLY = { pick: 1, putBack: 0, wrongTray: 0, longHold: 0, handOff: 0, sameBay: 0, sameTraySameTime: 0, fourClose: 0 } as const;
