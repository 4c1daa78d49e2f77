/**
 * Network errors of the virtual network, shaped as Node's own (`code`,
 * `errno`, `syscall`, `address`, `port`), so code that handles real socket
 * errors handles these the same way.
 */

const ERRNO: Record<string, number> = {
  ECONNREFUSED: -111, ECONNRESET: -104, ENOTFOUND: -3008, EADDRINUSE: -98, EADDRNOTAVAIL: -99, ETIMEDOUT: -110, EPIPE: -32,
};

/** A network error as Node makes them. @internal */
export interface NetError extends Error { code: string; errno: number; syscall: string; address?: string; port?: number; hostname?: string }

/** @internal */
export function netError(code: string, syscall: string, address?: string, port?: number): NetError {
  const where = address === undefined ? '' : ` ${address}${port === undefined ? '' : `:${port}`}`;
  const msg = code === 'ENOTFOUND' ? `${syscall} ${code}${where}`
    : code === 'EADDRINUSE' ? `${syscall} ${code}: address already in use${where}`
      : code === 'EADDRNOTAVAIL' ? `${syscall} ${code}: address not available${where}`
        : `${syscall} ${code}${where}`;
  const e = new Error(msg) as NetError;
  e.code = code;
  e.errno = ERRNO[code] ?? -1;
  e.syscall = syscall;
  if (code === 'ENOTFOUND') e.hostname = address;
  else if (address !== undefined) { e.address = address; if (port !== undefined) e.port = port; }
  return e;
}
