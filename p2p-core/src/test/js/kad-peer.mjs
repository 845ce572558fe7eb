// Kademlia interop peer for KadInteropIT: a js-libp2p node running @libp2p/kad-dht in server mode
// on loopback, driven line by line over stdin:
//   dial <multiaddr-with-/p2p/>   -> "dialed <peerId>" once the peer is in the DHT routing table
//   provide <cid>                 -> "provided <cid>"
//   find <cid> <timeoutMs>        -> "provider <peerId>" per provider, then "find-done <cid>"
// On start it prints "peer <peerId>" and one "listening <multiaddr>" per address. Errors go to
// stderr as "error <command> <message>". The process exits when stdin closes.

// js-libp2p 3 uses Promise.withResolvers, which Node 20 lacks: define it before importing.
await import('./with-resolvers.mjs')

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { kadDHT, passthroughMapper } = await import('@libp2p/kad-dht')
const { multiaddr } = await import('@multiformats/multiaddr')
const { CID } = await import('multiformats/cid')
const readline = await import('node:readline')

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: '/ipfs/kad/1.0.0',
      clientMode: false,
      peerInfoMapper: passthroughMapper,
      allowQueryWithZeroPeers: true
    })
  }
})
await node.start()
await node.services.dht.setMode('server')

const out = (line) => process.stdout.write(line + '\n')
out(`peer ${node.peerId.toString()}`)
for (const ma of node.getMultiaddrs()) {
  out(`listening ${ma.toString()}`)
}

const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

async function dial (text) {
  const ma = multiaddr(text)
  const conn = await node.dial(ma)
  const remote = conn.remotePeer
  // identify runs after connecting; the DHT adds the peer (after a libp2p ping) once identify lists kad.
  const deadline = Date.now() + 15000
  while (Date.now() < deadline) {
    const closest = await node.services.dht.routingTable.find(remote)
    if (closest != null) {
      out(`dialed ${remote.toString()}`)
      return
    }
    await sleep(100)
  }
  throw new Error(`peer ${remote} did not enter the DHT routing table`)
}

async function provide (text) {
  const cid = CID.parse(text)
  await node.contentRouting.provide(cid, { signal: AbortSignal.timeout(30000) })
  out(`provided ${text}`)
}

async function find (text, timeoutMs) {
  const cid = CID.parse(text)
  const seen = new Set()
  const deadline = Date.now() + Number(timeoutMs ?? 10000)
  while (seen.size === 0 && Date.now() < deadline) {
    try {
      for await (const p of node.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })) {
        const id = p.id.toString()
        if (!seen.has(id) && !p.id.equals(node.peerId)) {
          seen.add(id)
          out(`provider ${id}`)
        }
      }
    } catch (err) {
      process.stderr.write(`find-retry ${err.message}\n`)
    }
    if (seen.size === 0) {
      await sleep(200)
    }
  }
  out(`find-done ${text}`)
}

const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  const [cmd, ...args] = line.trim().split(/\s+/)
  try {
    if (cmd === 'dial') await dial(args[0])
    else if (cmd === 'provide') await provide(args[0])
    else if (cmd === 'find') await find(args[0], args[1])
    else if (cmd === '' || cmd == null) continue
    else throw new Error(`unknown command ${cmd}`)
  } catch (err) {
    process.stderr.write(`error ${cmd} ${err.message}\n`)
    out(`error ${cmd}`)
  }
}
await node.stop()
process.exit(0)
