// js-libp2p peer for LayerSwarm's transport interop tests: one stack, ping and an echo protocol.
//   tls:  TCP + /tls/1.0.0 + Yamux (TlsJsInteropIT)
//   quic: @chainsafe/libp2p-quic (/quic-v1): QUIC's own TLS and streams, no encrypter, no muxer (QuicJsInteropIT)
// Usage: node echo-peer.mjs listen <tls|quic>            -> prints "LISTEN <multiaddr>", serves ping and echo until killed
//        node echo-peer.mjs dial <multiaddr> <tls|quic>  -> prints CONNECTED <remote peer> <remote addr> <encryption>
//                                                           <muxer>, PING <ms>, ECHO ok, DONE
// Errors go to stderr and end the process with a non-zero status.
import './with-resolvers.mjs'
import { randomBytes } from 'node:crypto'

const { createLibp2p } = await import('libp2p')
const { ping } = await import('@libp2p/ping')
const { multiaddr } = await import('@multiformats/multiaddr')

const ECHO = '/layerswarm/test/echo/1.0.0'
const mode = process.argv[2]
const target = mode === 'dial' ? process.argv[3] : undefined
const stack = process.argv[mode === 'dial' ? 4 : 3]

async function transportConfig (name, listen) {
  if (name === 'tls') {
    const { tcp } = await import('@libp2p/tcp')
    const { tls } = await import('@libp2p/tls')
    const { yamux } = await import('@chainsafe/libp2p-yamux')
    return {
      addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
      transports: [tcp()],
      connectionEncrypters: [tls()],
      streamMuxers: [yamux()]
    }
  }
  if (name === 'quic') {
    const { quic } = await import('@chainsafe/libp2p-quic')
    return { addresses: { listen: listen ? ['/ip4/127.0.0.1/udp/0/quic-v1'] : [] }, transports: [quic()] }
  }
  console.error('unknown transport stack: ' + name + ' (tls or quic)')
  process.exit(2)
}

const node = await createLibp2p({ ...await transportConfig(stack, mode === 'listen'), services: { ping: ping() } })
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
    console.log('CONNECTED ' + conn.remotePeer.toString() + ' ' + conn.remoteAddr.toString() + ' ' +
      conn.encryption + ' ' + conn.multiplexer)
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
