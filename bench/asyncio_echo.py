# Python asyncio's protocol echo server, for net.bench.ts to measure beside tulip's (same load generator).
# asyncio sets TCP_NODELAY on its TCP transports. Prints its port, then serves until killed.
import asyncio


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, '127.0.0.1', 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
