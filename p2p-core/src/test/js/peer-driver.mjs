// What the stdin-driven interop peers (relay-peer.mjs, dcutr-peer.mjs) share: the start-up lines, a
// relay reservation command and the command loop.
const { multiaddr } = await import('@multiformats/multiaddr')
const readline = await import('node:readline')

export const out = (line) => process.stdout.write(line + '\n')
export const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

/** Prints "peer <id>" and one "listening <multiaddr>" per address. */
export function announce (node) {
  out(`peer ${node.peerId.toString()}`)
  for (const ma of node.getMultiaddrs()) {
    out(`listening ${ma.toString()}`)
  }
}

/** Listens on a relay (circuit relay v2 transport) and prints "reserved <circuit-multiaddr>" once granted. */
export async function reserve (node, text) {
  await node.components.transportManager.listen([multiaddr(text).encapsulate('/p2p-circuit')])
  const deadline = Date.now() + 15000
  while (Date.now() < deadline) {
    const circuit = node.getMultiaddrs().find(a => a.toString().includes('/p2p-circuit'))
    if (circuit != null) {
      out(`reserved ${circuit.toString()}`)
      return
    }
    await sleep(100)
  }
  throw new Error('no relayed address after listening on ' + text)
}

/**
 * Runs one command per stdin line with handlers[cmd](...args); a failure is "error <cmd> <message>" on stdout
 * (and the stack on stderr). Stops the node and exits when stdin closes.
 */
export async function runCommands (node, handlers) {
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const [cmd, ...args] = line.trim().split(/\s+/)
    try {
      if (handlers[cmd] != null) await handlers[cmd](...args)
      else if (cmd !== '') throw new Error('unknown command')
    } catch (e) {
      process.stderr.write(`error ${cmd} ${e?.stack ?? e}\n`)
      out(`error ${cmd} ${String(e?.message ?? e).replace(/\n/g, ' ')}`)
    }
  }
  await node.stop()
  process.exit(0)
}
