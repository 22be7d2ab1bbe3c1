// A private DHT of bittorrent-dht nodes on 127.0.0.1, bootstrapped only to
// each other (and to the extra nodes given, e.g. a test's fake spy).
// Usage: node dht.mjs NODE_MODULES_DIR COUNT [ANNOUNCE_HEX:PORT] [EXTRA_HOST:PORT:IDHEX ...]
// Prints "READY {"ports":[...],"ids":[...]}" once every node knows the
// others and the announce (if any) is done, then for every query a node
// gets "Q {...}", and for every query from an address that is not one of
// ours, probes it back with ping, find_node and get_peers and prints
// "PROBE {...}" with whether an answer came.
const mods = process.argv[2]
const count = Number(process.argv[3])
const rest = process.argv.slice(4)
const { default: DHT } = await import(mods + '/bittorrent-dht/index.js')

let announce = null
const extras = []
for (const a of rest) {
  const p = a.split(':')
  if (p.length === 2) announce = { hash: p[0], port: Number(p[1]) }
  else extras.push({ host: p[0], port: Number(p[1]), id: Buffer.from(p[2], 'hex') })
}

const out = (k, o) => process.stdout.write(k + ' ' + JSON.stringify(o) + '\n')
const nodes = []
for (let i = 0; i < count; i++) {
  const d = new DHT({ bootstrap: false, host: false, timeBucketOutdated: 60 * 60 * 1000 })
  d.on('error', (e) => out('ERR', { node: i, msg: e.message }))
  d.on('warning', () => {})
  nodes.push(d)
}
await Promise.all(nodes.map((d) => new Promise((resolve) => d.listen(0, '127.0.0.1', resolve))))
const ours = new Set(nodes.map((d) => '127.0.0.1:' + d.address().port))
for (const e of extras) ours.add(e.host + ':' + e.port)
const probed = new Set()

nodes.forEach((d, i) => {
  d._rpc.on('query', (q, peer) => {
    const from = peer.address + ':' + peer.port
    out('Q', { node: i, q: q.q ? q.q.toString() : '', from, ours: ours.has(from) })
    if (ours.has(from) || probed.has(from + '/' + i)) return
    probed.add(from + '/' + i)
    const id = d.nodeId
    const target = Buffer.alloc(20, 7)
    for (const [name, a] of [['ping', { id }], ['find_node', { id, target }], ['get_peers', { id, info_hash: target }]]) {
      d._rpc.query({ host: peer.address, port: peer.port }, { q: name, a }, (err) => {
        out('PROBE', { node: i, to: from, q: name, answered: !err })
      })
    }
  })
})

for (const d of nodes) {
  for (const o of nodes) if (o !== d) d.addNode({ host: '127.0.0.1', port: o.address().port, id: o.nodeId })
  for (const e of extras) d.addNode({ host: e.host, port: e.port, id: e.id })
}
if (announce) {
  await new Promise((resolve) => nodes[0].announce(Buffer.from(announce.hash, 'hex'), announce.port, (err) => {
    if (err) out('ERR', { node: 0, msg: 'announce: ' + err.message })
    resolve()
  }))
}
out('READY', { ports: nodes.map((d) => d.address().port), ids: nodes.map((d) => d.nodeId.toString('hex')) })
