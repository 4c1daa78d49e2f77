/**
 * The module every worker of the default executor loads: it imports the
 * job's module (cached by the module loader) and calls the named export with
 * the job's arguments. Its result or error goes back by structured clone.
 */

/** One job: the module's URL, the export's name, the arguments. */
export interface WorkerJob { module: string; name: string; args: unknown[] }

const modules = new Map<string, Record<string, unknown>>();

/** Run one job (piscina calls the default export with it). */
export default async function runJob(job: WorkerJob): Promise<unknown> {
  let m = modules.get(job.module);
  if (m === undefined) modules.set(job.module, m = await import(job.module) as Record<string, unknown>);
  const fn = m[job.name];
  if (typeof fn !== 'function') throw new TypeError(`${job.module} has no exported function '${job.name}'`);
  return (fn as (...a: unknown[]) => unknown)(...job.args);
}
