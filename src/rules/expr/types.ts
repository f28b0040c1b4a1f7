/**
 * The value types of the rule language. Money is whole pence, rates are parts per million, dates
 * are day numbers: every one is an exact integer at run time.
 */
export type ScalarTypeName = 'money' | 'int' | 'rate' | 'bool' | 'date' | 'string';

export type Type =
  | { readonly t: ScalarTypeName }
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | { readonly t: 'list'; readonly of: Type }
  | { readonly t: 'entities'; readonly list: string };

export const T = {
  money: { t: 'money' },
  int: { t: 'int' },
  rate: { t: 'rate' },
  bool: { t: 'bool' },
  date: { t: 'date' },
  string: { t: 'string' },
} as const satisfies Record<ScalarTypeName, Type>;

export function typeName(type: Type): string {
  switch (type.t) {
    case 'enum':
      return `one of ${type.values.map((v) => `"${v}"`).join(', ')}`;
    case 'list':
      return `a list of ${typeName(type.of)}`;
    case 'entities':
      return `the list ${type.list}`;
    case 'int':
      return 'a whole number';
    case 'bool':
      return 'true or false';
    default:
      return type.t;
  }
}

export function sameType(a: Type, b: Type): boolean {
  if (a.t === 'enum' && b.t === 'enum') return a.values.join('\u0000') === b.values.join('\u0000');
  if (a.t === 'list' && b.t === 'list') return sameType(a.of, b.of);
  if (a.t === 'entities' && b.t === 'entities') return a.list === b.list;
  return a.t === b.t;
}

/** Types that order (<, >, min, max). */
export function isOrdered(type: Type): boolean {
  return type.t === 'money' || type.t === 'int' || type.t === 'rate' || type.t === 'date';
}
