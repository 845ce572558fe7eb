// DCUtR interop peer for nat-traversal's DcutrInteropIT: a js-libp2p node with @libp2p/dcutr, the circuit
// relay v2 transport, identify and ping, on loopback TCP (Noise or TLS, Yamux). DCUtR runs by itself: when this
// node accepts a relayed connection from a peer that speaks /libp2p/dcutr it starts the upgrade, and it answers
// one the peer starts. @libp2p/dcutr dials only addresses it takes for public (a DNS name counts), so the Java
// side offers /dns4/localhost/... in its CONNECT. Driven line by line over stdin:
//   reserve <relay-multiaddr-with-/p2p/>  -> "reserved <circuit-multiaddr>" once the relay granted it
//   dial <multiaddr>                      -> "dialed <limited|direct>" once connected
//   direct <peerId>                       -> "direct <remote-multiaddr>" once a non-limited connection to the
//                                            peer is open and no limited (relayed) one is left (20 s at most)
// On start it prints "peer <peerId>" and one "listening <multiaddr>" per address. Errors go to stderr and as
// "error <command> <message>". The process exits when stdin closes.
await import('./with-resolvers.mjs')

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { tls } = await import('@libp2p/tls')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { dcutr } = await import('@libp2p/dcutr')
const { circuitRelayTransport } = await import('@libp2p/circuit-relay-v2')
const { multiaddr } = await import('@multiformats/multiaddr')
const { announce, out, reserve, runCommands, sleep } = await import('./peer-driver.mjs')

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise(), tls()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: { identify: identify(), ping: ping(), dcutr: dcutr() }
})
await node.start()

announce(node)

async function dial (text) {
  const conn = await node.dial(multiaddr(text), { signal: AbortSignal.timeout(15000) })
  out(`dialed ${conn.limits != null ? 'limited' : 'direct'}`)
}

async function direct (peer) {
  const deadline = Date.now() + 20000
  while (Date.now() < deadline) {
    const conns = node.getConnections().filter(c => c.remotePeer.toString() === peer && c.status === 'open')
    const unlimited = conns.find(c => c.limits == null)
    if (unlimited != null && conns.every(c => c.limits == null)) {
      out(`direct ${unlimited.remoteAddr.toString()}`)
      return
    }
    await sleep(100)
  }
  const now = node.getConnections().filter(c => c.remotePeer.toString() === peer)
    .map(c => `${c.remoteAddr} ${c.limits != null ? 'limited' : 'direct'} ${c.status}`)
  throw new Error('no direct-only connection to ' + peer + ' within 20 s; connections: ' + now.join(', '))
}

await runCommands(node, {
  reserve: (addr) => reserve(node, addr),
  dial,
  direct
})
