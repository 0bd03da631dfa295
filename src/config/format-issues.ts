// Turns zod issues into one line each: the exact path, what is wrong, and
// what would be valid. These lines are what a user sees; tests pin them.
import type { z } from 'zod';
import { closest } from '../closest.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * One line per problem, unknown keys first. A misspelt required key is one
 * problem, not two: "unknown key "symbls" (did you mean "symbols"?)" stands
 * for the "symbols is required" it causes.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root: z.ZodType): string[] {
  const explained = new Set<string>();
  for (const i of issues) {
    if (i.code !== 'unrecognized_keys') continue;
    for (const k of i.keys) {
      const hint = closest(k, knownKeys(root, i.path));
      if (hint) explained.add(formatPath([...i.path, hint]));
    }
  }
  const rank = (i: z.core.$ZodIssue) => (i.code === 'unrecognized_keys' ? 0 : 1);
  return [...issues]
    .sort((a, b) => rank(a) - rank(b))
    .filter((i) => !(i.code === 'invalid_type' && i.input === undefined && explained.has(formatPath(i.path))))
    .map((i) => formatIssue(i, root));
}

export function formatIssue(issue: z.core.$ZodIssue, root: z.ZodType): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const hint = closest(k, knownKeys(root, issue.path));
        return `${where}: unknown key ${JSON.stringify(k)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
      }).join('\n');
    case 'invalid_type':
      if (issue.input === undefined) return `${where}: is required (${issue.expected})`;
      return `${where}: expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_value':
    case 'invalid_union':
    case 'invalid_format':
    case 'custom':
    default:
      return `${where}: ${issue.message}`;
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Keys the object at `path` accepts, found by walking the schema. */
function knownKeys(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = root;
  for (const p of path) {
    node = unwrap(node);
    const def = (node as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'array' && typeof p === 'number') node = def.element;
    else if (def?.type === 'object' && typeof p === 'string') node = def.shape?.[p];
    else return [];
  }
  const def = (unwrap(node) as { def?: { shape?: Record<string, unknown> } }).def;
  return Object.keys(def?.shape ?? {});
}

function unwrap(node: unknown): unknown {
  let n = node as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (n?.def && (n.def.type === 'optional' || n.def.type === 'default' || n.def.type === 'nullable')) {
    n = n.def.innerType as typeof n;
  }
  return n;
}
