// libp2p 3.x uses Promise.withResolvers (Node 22+). Import this module before any libp2p module
// (static imports run in order) to define it on Node 20.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
