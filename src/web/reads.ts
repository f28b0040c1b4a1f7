import { fromStore as storeCall } from '../store/index.ts';

/** The work's result, or a rejection after `ms`: a page must not wait on a source that hangs. */
export function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' })),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A database read for a page: a store that fails is "unavailable" (503), never a 500. */
export function fromStore<T>(work: Promise<T>): Promise<T> {
  return storeCall(work, 'the database');
}
