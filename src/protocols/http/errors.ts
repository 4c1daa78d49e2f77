/**
 * The one error type of the HTTP layer. A handler throws it to answer with
 * a status; the parser throws it for a message it refuses (400, 413, 414,
 * 431, 501, 505); a body read throws it past its size limit (413); the
 * client throws it for a response that breaks the protocol (502).
 */

/**
 * Reason phrases of the status codes tulip sends or names.
 * @example
 * console.log(STATUS_TEXT[404]);   // 'Not Found'
 */
export const STATUS_TEXT: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 417: 'Expectation Failed', 422: 'Unprocessable Content', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/**
 * An HTTP error with the status that answers it. Thrown from a handler
 * before the response started, it becomes that response (`message` as a
 * plain-text body, `headers` added); the server closes the connection
 * after a 4xx/5xx it sends for a malformed request.
 * @example
 * import { HttpError, serveHttp } from 'tulip/http';
 * const server = yield* serveHttp(function* (req, res) {
 *   if (req.path !== '/') throw new HttpError(404);
 *   res.end('home');
 * }, '127.0.0.1', 8080);
 */
export class HttpError extends Error {
  /** The status code that answers this error. */
  readonly status: number;
  /** Header fields to send with the error response (say, `Allow` with a 405). */
  readonly headers: Record<string, string>;

  constructor(status: number, message?: string, opts?: { headers?: Record<string, string>; cause?: unknown }) {
    super(message ?? STATUS_TEXT[status] ?? `HTTP ${status}`, opts?.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'HttpError';
    this.status = status;
    this.headers = opts?.headers ?? {};
  }
}
