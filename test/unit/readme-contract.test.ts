// The README is the manual: every error code, config key and subcommand
// the code has must have its row there, and every flag its mention.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';
import { COMMANDS } from '../../src/commands/index.js';
import { ERRORS } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function configKeys(schema: Record<string, unknown>, prefix = ''): string[] {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    const items = v.type === 'array' ? (v.items as Record<string, unknown>) : null;
    if (items?.properties) return [`${path}[]`, ...configKeys(items, `${path}[]`)];
    if (v.properties) return configKeys(v, path);
    return [path];
  });
}

describe('README', () => {
  it('has a row for every error code, with its exit code', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      expect(readme, code).toContain(`| \`${code}\` | ${def.exit} | ${def.retryable ? 'yes' : 'no'} |`);
    }
  });

  it('has a row for every config key', () => {
    const keys = configKeys(z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>);
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect(readme, k).toContain(`| \`${k}\` |`);
  });

  it('shows only configs that load', () => {
    const examples = readme.split('```json\n').slice(1).map((b) => b.split('```')[0]!).filter((b) => b.includes('"streams"'));
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(parseConfig(JSON.parse(e), '/cfg/symbols.json', { env: {} }).streams.length).toBeGreaterThan(0);
  });

  it('has a row for every metric candlekeep registers', async () => {
    const { Metrics } = await import('../../src/observe.js');
    const json = await new Metrics(() => null).registry.getMetricsAsJSON();
    const own = json.map((m) => m.name).filter((n) => !/^candlekeep_(process|nodejs)_/.test(n));
    expect(own.length).toBeGreaterThan(25);
    for (const name of own) expect(readme, name).toMatch(new RegExp(`\\| \`${name}\` \\| (counter|gauge|histogram) \\|`));
  });

  it('documents every subcommand and every flag', () => {
    for (const c of COMMANDS) {
      expect(readme).toMatch(new RegExp(`\\| \`${c.name}\``));
      for (const flag of Object.keys(c.options)) expect(readme, `${c.name} --${flag}`).toContain(`--${flag}`);
    }
  });
});
