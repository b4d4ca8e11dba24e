import { existsSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile, type Scenario } from './schema.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * The folder of the bundled scenario files. Next to this module when run from
 * source; from a build in `dist/` the YAML files are not copied, so the source
 * folder of the checkout is used.
 */
export function scenariosDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [here, resolve(here, '../../../firmware-sim/scenarios')];
  return candidates.find((dir) => scenarioFiles(dir).length > 0) ?? here;
}

function scenarioFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

/** Paths of the bundled scenario files, sorted by name. */
export function listScenarioFiles(dir = scenariosDir()): string[] {
  return scenarioFiles(dir);
}

/** Names of the bundled scenarios (the file names without extension), sorted. */
export function listScenarioNames(dir = scenariosDir()): string[] {
  return listScenarioFiles(dir).map((f) => f.slice(dir.length + 1, -extname(f).length));
}

/**
 * Find a scenario by bundled name (`fall-cancelled`) or by path (anything with
 * a `/` or an extension), and load it.
 *
 * @throws ScenarioError when the file does not validate; Error when there is no such scenario.
 */
export function findScenario(nameOrFile: string, dir = scenariosDir()): Scenario {
  const looksLikePath = nameOrFile.includes('/') || EXTENSIONS.includes(extname(nameOrFile).toLowerCase());
  if (looksLikePath) return loadScenarioFile(nameOrFile);
  const file = listScenarioFiles(dir).find((f) => f.slice(dir.length + 1, -extname(f).length) === nameOrFile);
  if (!file) {
    throw new Error(
      `no scenario named ${JSON.stringify(nameOrFile)}; known: ${listScenarioNames(dir).join(', ')}`,
    );
  }
  return loadScenarioFile(file);
}
