// js-libp2p peer for LayerSwarm's QUIC interop test (QuicJsInteropIT): @chainsafe/libp2p-quic (/quic-v1) only,
// QUIC's own TLS and streams (no encrypter, no muxer).
// Usage: node quic-peer.mjs listen          -> prints "LISTEN <multiaddr>", serves ping and echo until killed
//        node quic-peer.mjs dial <multiaddr> -> prints CONNECTED <remote peer>, PING <ms>, ECHO ok, DONE
// Errors go to stderr and end the process with a non-zero status.
import './with-resolvers.mjs'
import { randomBytes } from 'node:crypto'

const { createLibp2p } = await import('libp2p')
const { quic } = await import('@chainsafe/libp2p-quic')
const { ping } = await import('@libp2p/ping')
const { multiaddr } = await import('@multiformats/multiaddr')

const ECHO = '/layerswarm/test/echo/1.0.0'
const [mode, target] = process.argv.slice(2)

const node = await createLibp2p({
  addresses: { listen: mode === 'listen' ? ['/ip4/127.0.0.1/udp/0/quic-v1'] : [] },
  transports: [quic()],
  services: { ping: ping() }
})
await node.handle(ECHO, async (stream) => {
  try {
    for await (const chunk of stream) stream.send(chunk.subarray ? chunk.subarray() : chunk)
    await stream.close()
  } catch (e) {
    console.error('echo failed', e)
  }
})
await node.start()

if (mode === 'listen') {
  console.log('LISTEN ' + node.getMultiaddrs()[0].toString())
  process.on('SIGTERM', async () => { await node.stop(); process.exit(0) })
} else {
  try {
    const conn = await node.dial(multiaddr(target), { signal: AbortSignal.timeout(10000) })
    console.log('CONNECTED ' + conn.remotePeer.toString() + ' ' + conn.remoteAddr.toString())
    console.log('PING ' + await node.services.ping.ping(multiaddr(target)))
    const stream = await conn.newStream(ECHO)
    const msg = randomBytes(200000)
    const got = []
    const reading = (async () => { for await (const c of stream) got.push(Buffer.from(c.subarray ? c.subarray() : c)) })()
    stream.send(msg)
    await stream.close()
    await reading
    if (Buffer.compare(Buffer.concat(got), msg) !== 0) throw new Error('echo mismatch: ' + Buffer.concat(got).length + ' bytes')
    console.log('ECHO ok')
    console.log('DONE')
    await node.stop()
    process.exit(0)
  } catch (e) {
    console.error('dial scenario failed', e)
    await node.stop()
    process.exit(1)
  }
}
