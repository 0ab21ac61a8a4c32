import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

export interface BenchEnvironment {
  node: string;
  platform: string;
  arch: string;
  /** Logical CPUs the OS reports (os.availableParallelism()). */
  cpus: number;
  cpuModel: string;
  totalMemoryGiB: number;
  packages: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** Installed version of a package, found from its resolved entry (works when package.json is not exported). */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

export function benchEnvironment(packages: readonly string[] = []): BenchEnvironment {
  const list = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: availableParallelism(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    packages: Object.fromEntries(packages.map((p) => [p, packageVersion(p)])),
  };
}
