/**
 * `tulip/http`: HTTP/1.1 on the protocol layer. A server (`serveHttp`), a
 * client with a connection pool (`HttpClient`), and the HTTP-based
 * transport that carries any message protocol (JSON-RPC, say) over HTTP.
 * Nothing here imports a `node:` module: it runs on every loop, the
 * virtual network included.
 * @module tulip/http
 */
export { HttpError, STATUS_TEXT } from './errors.js';
export { Headers } from './headers.js';
export type { HeadersInit } from './headers.js';
export { HttpBody, DEFAULT_BODY_LIMIT } from './body.js';
export type { BodyReadOptions } from './body.js';
export { DEFAULT_LIMITS } from './syntax.js';
export type { HttpLimits } from './syntax.js';
export { serveHttp, serveHttpUnix, HttpServer } from './server.js';
export { HttpRequest } from './request.js';
export { HttpResponse } from './response.js';
export type { HttpHandler, HttpServerOptions } from './server.js';
export { HttpClient, HttpClientResponse } from './client.js';
export type { HttpClientOptions, RequestOptions, RequestBody, BodyReader, BodyWriter } from './client.js';
export { createHttpConnection, httpMessageHandler, HttpClientTransport } from './transport.js';
export type { HttpConnectionOptions, HttpMessageHandlerOptions } from './transport.js';
