/**
 * The module every worker of the default executor loads: it imports the
 * job's module (cached by the module loader) and calls the named export with
 * the job's arguments. Its result or error goes back by structured clone.
 */

/** One job: the module's URL, the export's name, the arguments. */
export interface WorkerJob { module: string; name: string; args: unknown[] }

const modules = new Map<string, Record<string, unknown>>();

/**
 * Import `url`. A failure goes back to the caller by structured clone, which only a plain Error survives: Bun
 * fails an import with a ResolveMessage, which does not (the caller would get a DataCloneError instead), so the
 * failure is passed on as an Error with its message, stack and code.
 */
async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return await import(url) as Record<string, unknown>;
  } catch (e) {
    const x = (e ?? {}) as { message?: unknown; stack?: unknown; code?: unknown };
    const err = new Error(typeof x.message === 'string' ? x.message : String(e));
    if (typeof x.stack === 'string') err.stack = x.stack;
    throw Object.assign(err, { code: typeof x.code === 'string' ? x.code : 'ERR_MODULE_NOT_FOUND' });
  }
}

/** Run one job (piscina calls the default export with it). */
export default async function runJob(job: WorkerJob): Promise<unknown> {
  let m = modules.get(job.module);
  if (m === undefined) modules.set(job.module, m = await importModule(job.module));
  const fn = m[job.name];
  if (typeof fn !== 'function') throw new TypeError(`${job.module} has no exported function '${job.name}'`);
  return (fn as (...a: unknown[]) => unknown)(...job.args);
}
