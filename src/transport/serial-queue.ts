/**
 * A queue that runs jobs one after another, in the order they were given, whatever became of the
 * one before (a rejection does not stop the queue; the job's own promise still rejects). A Unix
 * send waiting out a full receiver is not overtaken by a later one; a server's `start()` and
 * `stop()` take effect in the order they were called.
 */
export type SerialQueue = <T>(job: () => T | PromiseLike<T>) => Promise<T>;

export function inOrder(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}
