/**
 * Run `fn` over `items` a few at a time, for disk work that waits on the thread pool (a thousand
 * files or directories one after another mostly wait). After the first failure no new item
 * starts; the ones in flight finish, and then the first error is thrown: the caller undoes or
 * reports a settled state, never one still changing.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
