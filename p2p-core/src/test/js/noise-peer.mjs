// js-libp2p peer for LayerSwarm's Noise/pnet interop tests (NoiseJsInteropIT).
// Usage: node noise-peer.mjs listen [--psk swarm.key] [--key identity.key]
//        node noise-peer.mjs dial <multiaddr> [--psk swarm.key] [--key identity.key]
// --key: a libp2p PrivateKey protobuf file (LayerSwarm's KeyFiles format); otherwise a fresh Ed25519
// key. The 'started' event reports the key used as protobuf hex (test keys only) so the Java side can
// check the on-disk format in both directions.
// Prints one JSON line per event on stdout; exits when stdin closes.
import { readFileSync } from 'node:fs'

// libp2p 3.x uses Promise.withResolvers (Node 22+); define it before importing on Node 20.
await import('./with-resolvers.mjs')

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { preSharedKey } = await import('@libp2p/pnet')
const { multiaddr } = await import('@multiformats/multiaddr')
const { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')

const args = process.argv.slice(2)
const mode = args[0]
const pskIndex = args.indexOf('--psk')
const psk = pskIndex >= 0 ? readFileSync(args[pskIndex + 1]) : undefined
const keyIndex = args.indexOf('--key')
const privateKey = keyIndex >= 0
  ? privateKeyFromProtobuf(readFileSync(args[keyIndex + 1]))
  : await generateKeyPair('Ed25519')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const node = await createLibp2p({
  privateKey,
  addresses: { listen: mode === 'listen' ? ['/ip4/127.0.0.1/tcp/0'] : [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  ...(psk ? { connectionProtector: preSharedKey({ psk }) } : {})
})
node.addEventListener('connection:open', (evt) => {
  out({ event: 'connection', remotePeer: evt.detail.remotePeer.toString(), encryption: evt.detail.encryption,
    multiplexer: evt.detail.multiplexer })
})
await node.start()
out({
  event: 'started',
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map((a) => a.toString()),
  privateKeyProtobufHex: Buffer.from(privateKeyToProtobuf(privateKey)).toString('hex')
})

if (mode === 'dial') {
  try {
    const conn = await node.dial(multiaddr(args[1]), { signal: AbortSignal.timeout(10000) })
    out({ event: 'dialled', remotePeer: conn.remotePeer.toString(), encryption: conn.encryption })
  } catch (err) {
    out({ event: 'dial-failed', error: String(err && err.message ? err.message : err) })
  }
}

process.stdin.resume()
process.stdin.on('end', async () => {
  await node.stop()
  process.exit(0)
})
