// js-libp2p peer driven by the LayerSwarm interop integration tests.
//
//   node peer.mjs listen [--listen MA] [--swarm-key FILE]
//       prints "LISTEN <multiaddr>/p2p/<peerId>" and serves echo + sha256 test protocols,
//       identify and ping until killed.
//   node peer.mjs dial TARGET --scenario identify,ping,echo,hash [--bytes N] [--swarm-key FILE]
//       prints one line per step: "IDENTIFY <json>", "PING <ms>", "ECHO ok", "HASH <sent> <received>",
//       then "DONE"; on failure "ERROR <message>" and exit code 1.
//
// js-libp2p 3 uses Promise.withResolvers (Node >= 22); define it before loading libp2p.
await import('./with-resolvers.mjs')

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { ping } = await import('@libp2p/ping')
const { preSharedKey } = await import('@libp2p/pnet')
const { multiaddr } = await import('@multiformats/multiaddr')
const { createHash, randomBytes } = await import('node:crypto')
const { readFileSync } = await import('node:fs')

const ECHO = '/layerswarm/test/echo/1.0.0'
const SHA256 = '/layerswarm/test/sha256/1.0.0'

function parseArgs (argv) {
  const opts = { mode: argv[0], target: null, listen: '/ip4/127.0.0.1/tcp/0', scenario: [], bytes: 1024 * 1024, swarmKey: null }
  let i = 1
  if (opts.mode === 'dial') { opts.target = argv[1]; i = 2 }
  for (; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--listen') opts.listen = argv[++i]
    else if (a === '--scenario') opts.scenario = argv[++i].split(',').filter(Boolean)
    else if (a === '--bytes') opts.bytes = Number(argv[++i])
    else if (a === '--swarm-key') opts.swarmKey = readFileSync(argv[++i])
    else throw new Error('unknown argument ' + a)
  }
  if (opts.mode !== 'listen' && opts.mode !== 'dial') throw new Error('mode must be listen or dial')
  return opts
}

const toBytes = (chunk) => chunk instanceof Uint8Array ? chunk : chunk.subarray()

async function readAll (stream, onChunk) {
  for await (const chunk of stream) onChunk(toBytes(chunk))
}

async function sendAll (stream, buf) {
  if (!stream.send(buf)) await stream.onDrain()
}

async function serveEcho (stream) {
  for await (const chunk of stream) await sendAll(stream, toBytes(chunk))
  await stream.close()
}

async function serveSha256 (stream) {
  const h = createHash('sha256')
  await readAll(stream, (b) => h.update(b))
  await sendAll(stream, new TextEncoder().encode(h.digest('hex')))
  await stream.close()
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const config = {
    addresses: { listen: opts.mode === 'listen' ? [opts.listen] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  }
  if (opts.swarmKey) config.connectionProtector = preSharedKey({ psk: opts.swarmKey })
  const node = await createLibp2p(config)
  await node.handle(ECHO, (stream) => serveEcho(stream).catch((e) => console.error('echo failed', e)))
  await node.handle(SHA256, (stream) => serveSha256(stream).catch((e) => console.error('sha256 failed', e)))
  await node.start()

  if (opts.mode === 'listen') {
    const ma = node.getMultiaddrs()[0]
    console.log('LISTEN ' + ma.toString())
    process.on('SIGTERM', async () => { await node.stop(); process.exit(0) })
    return
  }

  const target = multiaddr(opts.target)
  // libp2p identifies every new connection by itself; take that result rather than racing it.
  const identified = new Promise((resolve) => {
    node.addEventListener('peer:identify', (evt) => resolve(evt.detail))
  })
  const conn = await node.dial(target)
  for (const step of opts.scenario) {
    if (step === 'identify') {
      const r = await Promise.race([identified, new Promise((resolve, reject) => setTimeout(() => reject(new Error('identify timed out')), 10000))])
      console.log('IDENTIFY ' + JSON.stringify({
        peerId: r.peerId.toString(),
        protocolVersion: r.protocolVersion,
        agentVersion: r.agentVersion,
        protocols: r.protocols,
        listenAddrs: r.listenAddrs.map((a) => a.toString()),
        observedAddr: r.observedAddr ? r.observedAddr.toString() : null
      }))
    } else if (step === 'ping') {
      const rtt = await node.services.ping.ping(target)
      console.log('PING ' + rtt)
    } else if (step === 'echo') {
      const stream = await conn.newStream(ECHO)
      const msg = randomBytes(1000)
      const got = []
      const reading = readAll(stream, (b) => got.push(b))
      await sendAll(stream, msg)
      await stream.close()
      await reading
      if (Buffer.compare(Buffer.concat(got), msg) !== 0) throw new Error('echo mismatch')
      console.log('ECHO ok')
    } else if (step === 'hash') {
      const stream = await conn.newStream(SHA256)
      const h = createHash('sha256')
      const got = []
      const reading = readAll(stream, (b) => got.push(b))
      let left = opts.bytes
      while (left > 0) {
        const chunk = randomBytes(Math.min(left, 64 * 1024))
        h.update(chunk)
        left -= chunk.length
        await sendAll(stream, chunk)
      }
      await stream.close()
      await reading
      console.log('HASH ' + h.digest('hex') + ' ' + Buffer.concat(got).toString('ascii'))
    } else {
      throw new Error('unknown scenario step ' + step)
    }
  }
  console.log('DONE')
  await node.stop()
  process.exit(0)
}

main().catch((e) => {
  console.log('ERROR ' + (e && e.message ? e.message.replace(/\n/g, ' ') : String(e)))
  process.exit(1)
})
