import { settings, type Config, type Setting } from './schema.ts';

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment against the schema; the first bad value throws a ConfigError naming it. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings) as [string, Setting][]) {
    const raw = env[s.env];
    const value = raw === undefined || raw === '' ? s.default : raw;
    const parsed = s.schema.safeParse(value);
    if (!parsed.success) {
      const shown = s.secret ? '(hidden)' : JSON.stringify(value ?? '');
      throw new ConfigError(s.env, `invalid value ${shown}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    out[key] = parsed.data;
  }
  return out as Config;
}

/** Markdown table of every setting, generated from the schema (the README embeds it). */
export function configTable(): string {
  const rows = Object.values(settings as Record<string, Setting>).map(
    (s) => `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : s.default === '' ? '(empty)' : `\`${s.default}\``} | ${s.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| Variable | Default | What it does |', '| --- | --- | --- |', ...rows].join('\n');
}
