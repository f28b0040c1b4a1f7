/**
 * The reference key a parameter's source starts with: "S1 table 2" -> "S1". Every source must
 * start with a key listed under `references` in ruleset.yaml.
 */
export function referenceKey(source: string): string {
  const end = source.search(/[\s,:;(]/);
  return end < 0 ? source : source.slice(0, end);
}
