/**
 * Orders variables so each is computed after everything it reads. Returns every cycle found
 * (each as the chain of names that closes on itself) rather than stopping at the first.
 */
export function orderByDependencies(deps: ReadonlyMap<string, ReadonlySet<string>>): {
  order: string[];
  cycles: string[][];
} {
  const order: string[] = [];
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(name)), name]);
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of [...(deps.get(name) ?? [])].sort()) if (deps.has(dep)) visit(dep);
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  // Sorted, so the order (and so the generated code) is the same on every machine.
  for (const name of [...deps.keys()].sort()) visit(name);
  return { order, cycles };
}
