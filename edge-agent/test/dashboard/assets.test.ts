import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const assets = join(import.meta.dirname, '../../src/dashboard/assets');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

/** The dashboard works with no internet: everything it loads is served by the agent (docs/dashboard.md). */
describe('dashboard assets', () => {
  it('name no other host, load no inline script or style, and never build markup from strings', () => {
    for (const file of files(assets)) {
      const text = readFileSync(file, 'utf8');
      const name = relative(assets, file);
      // The SVG namespace is an identifier, not a fetch.
      expect(text.replaceAll('http://www.w3.org/2000/svg', ''), name).not.toMatch(/https?:\/\//);
      expect(text, name).not.toMatch(/\/\/cdn|@import/);
      if (name.endsWith('.html')) {
        expect(text, name).not.toMatch(/<script(?![^>]*\ssrc=)/);
        expect(text, name).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
      }
      if (name.endsWith('.js')) expect(text, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    }
  });
});
