// Circuit relay v2 interop peer for nat-traversal's RelayInteropIT: a js-libp2p node that is a relay
// (@libp2p/circuit-relay-v2 server, 16 MiB / 60 s per circuit) and a relay client (transport), on
// loopback TCP with Noise or TLS and Yamux, serving /layerswarm/test/echo/1.0.0 also on relayed
// (limited) connections. Driven line by line over stdin:
//   reserve <relay-multiaddr-with-/p2p/>  -> "reserved <circuit-multiaddr>" once the relay granted it
//   echo <multiaddr> <bytes>              -> "echo-ok <bytes> <limited|direct>" after a verified echo
// On start it prints "peer <peerId>" and one "listening <multiaddr>" per address. Errors go to
// stderr as "error <command> <message>". The process exits when stdin closes.
await import('./with-resolvers.mjs')

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { tls } = await import('@libp2p/tls')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { circuitRelayServer, circuitRelayTransport } = await import('@libp2p/circuit-relay-v2')
const { multiaddr } = await import('@multiformats/multiaddr')
const { randomBytes } = await import('node:crypto')
const { announce, out, reserve, runCommands } = await import('./peer-driver.mjs')

const ECHO = '/layerswarm/test/echo/1.0.0'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise(), tls()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: {
    identify: identify(),
    ping: ping(),
    relay: circuitRelayServer({
      reservations: { defaultDataLimit: BigInt(1 << 24), defaultDurationLimit: 60000 }
    })
  }
})
await node.handle(ECHO, async (stream) => {
  try {
    for await (const chunk of stream) stream.send(chunk.subarray ? chunk.subarray() : chunk)
    await stream.close()
  } catch (e) {
    process.stderr.write(`echo handler failed ${e}\n`)
  }
}, { runOnLimitedConnection: true })
await node.start()

announce(node)

async function echo (text, n) {
  const msg = randomBytes(Number(n))
  const stream = await node.dialProtocol(multiaddr(text), ECHO, { runOnLimitedConnection: true, signal: AbortSignal.timeout(15000) })
  const got = []
  const reading = (async () => { for await (const c of stream) got.push(Buffer.from(c.subarray ? c.subarray() : c)) })()
  for (let off = 0; off < msg.length; off += 65536) {
    if (!stream.send(msg.subarray(off, Math.min(msg.length, off + 65536)))) {
      await stream.onDrain()
    }
  }
  await stream.close()
  await reading
  if (Buffer.compare(Buffer.concat(got), msg) !== 0) {
    throw new Error('echo mismatch: ' + Buffer.concat(got).length + ' bytes back of ' + msg.length)
  }
  const conn = node.getConnections().find(c => c.remotePeer.equals(stream.remotePeer ?? c.remotePeer) && c.remoteAddr.toString() === text) ??
    node.getConnections().find(c => text.endsWith(c.remotePeer.toString()))
  out(`echo-ok ${n} ${conn?.limits != null ? 'limited' : 'direct'}`)
}

await runCommands(node, {
  reserve: (addr) => reserve(node, addr),
  echo
})
