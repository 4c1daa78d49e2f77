# The aiohttp server of http.bench.ts (Debian's python3-aiohttp), in its own process: the same two routes.
# Prints its port once listening.
import asyncio
import socket
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text='hello', content_type='text/plain')


async def echo(request):
    resp = web.StreamResponse()
    if request.content_length is not None:
        resp.content_length = request.content_length
    await resp.prepare(request)
    async for chunk in request.content.iter_any():
        await resp.write(chunk)
    await resp.write_eof()
    return resp


async def main():
    app = web.Application(client_max_size=1 << 30)
    app.router.add_get('/hello', hello)
    app.router.add_post('/echo', echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    site = web.SockSite(runner, sock, backlog=4096)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
