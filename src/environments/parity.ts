import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EntitleError } from '../errors/index.ts';
import { K8S_DIR, OVERLAYS } from './layout.ts';

/**
 * `entitle env diff A B`: which configuration keys differ between two environments' overlays, for
 * parity checks before a promotion. Values are never shown (some settings say where things are);
 * a key is named as set in one only, or set in both to different values.
 */

export interface EnvDiff {
  readonly a: string;
  readonly b: string;
  readonly onlyInA: readonly string[];
  readonly onlyInB: readonly string[];
  readonly differ: readonly string[];
  readonly same: number;
}

interface Kustomization {
  readonly namespace?: string;
  readonly images?: readonly { readonly name: string; readonly newName?: string; readonly newTag?: string }[];
  readonly configMapGenerator?: readonly { readonly name: string; readonly literals?: readonly string[] }[];
  readonly patches?: readonly {
    readonly path: string;
    readonly target: { readonly kind: string; readonly name: string };
  }[];
}

const ALIASES: Readonly<Record<string, string>> = { development: 'dev' };

async function readYaml<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${what} could not be read`, [
      { message: `run from the project's folder, or generate the manifests with "entitle deploy manifests"` },
    ]);
  }
  return parse(text) as T;
}

function literalsOf(k: Kustomization, into: Map<string, string>): void {
  for (const generator of k.configMapGenerator ?? []) {
    for (const literal of generator.literals ?? []) {
      const at = literal.indexOf('=');
      into.set(`config ${generator.name} ${literal.slice(0, at)}`, literal.slice(at + 1));
    }
  }
}

/** Every key an overlay sets, with its value (kept here only to compare). */
async function settings(root: string, overlay: string): Promise<Map<string, string>> {
  const dir = join(root, K8S_DIR, 'overlays', overlay);
  const base = await readYaml<Kustomization>(
    join(root, K8S_DIR, 'base', 'kustomization.yaml'),
    'the base kustomization',
  );
  const own = await readYaml<Kustomization>(join(dir, 'kustomization.yaml'), `the ${overlay} overlay`);
  const keys = new Map<string, string>();
  literalsOf(base, keys);
  literalsOf(own, keys);
  if (own.namespace) keys.set('namespace', own.namespace);
  for (const image of own.images ?? []) keys.set(`image ${image.name}`, `${image.newName ?? ''}:${image.newTag ?? ''}`);
  for (const patch of own.patches ?? []) {
    const operations = await readYaml<{ path: string; value: unknown }[]>(
      join(dir, patch.path),
      `the ${overlay} overlay's ${patch.path}`,
    );
    for (const op of operations)
      keys.set(`${patch.target.kind}/${patch.target.name} ${op.path}`, JSON.stringify(op.value));
  }
  return keys;
}

function overlayName(name: string, field: string): string {
  const overlay = ALIASES[name] ?? name;
  if (!(OVERLAYS as readonly string[]).includes(overlay)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `there is no environment "${name}"`, [
      { field, message: `give one of ${OVERLAYS.join(', ')}` },
    ]);
  }
  return overlay;
}

export async function envDiff(root: string, a: string, b: string): Promise<EnvDiff> {
  const [left, right] = [overlayName(a, 'A'), overlayName(b, 'B')];
  const [sa, sb] = await Promise.all([settings(root, left), settings(root, right)]);
  const onlyInA = [...sa.keys()].filter((k) => !sb.has(k)).sort();
  const onlyInB = [...sb.keys()].filter((k) => !sa.has(k)).sort();
  const both = [...sa.keys()].filter((k) => sb.has(k));
  const differ = both.filter((k) => sa.get(k) !== sb.get(k)).sort();
  return { a: left, b: right, onlyInA, onlyInB, differ, same: both.length - differ.length };
}

export function formatEnvDiff(diff: EnvDiff): string {
  const lines = [`Configuration keys of ${diff.a} and ${diff.b} (values are not shown)`];
  const section = (title: string, keys: readonly string[]) => {
    lines.push('', `${title} (${keys.length})`);
    for (const key of keys) lines.push(`  ${key}`);
    if (keys.length === 0) lines.push('  none');
  };
  section(`Set only in ${diff.a}`, diff.onlyInA);
  section(`Set only in ${diff.b}`, diff.onlyInB);
  section('Set in both, to different values', diff.differ);
  lines.push('', `${diff.same} more key${diff.same === 1 ? ' is' : 's are'} the same in both.`);
  return `${lines.join('\n')}\n`;
}
