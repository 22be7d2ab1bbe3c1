// A bittorrent-tracker server on 127.0.0.1 that logs every request it gets.
// Usage: node tracker.mjs NODE_MODULES_DIR
// Prints "READY {"http":PORT,"udp":PORT}" then one "REQ {...}" line per
// HTTP request or UDP packet. Exits when stdin closes or on a signal.
const mods = process.argv[2]
const { default: Server } = await import(mods + '/bittorrent-tracker/server.js')

const server = new Server({ http: true, udp: true, ws: false, stats: false, trustProxy: false })
const log = (o) => process.stdout.write('REQ ' + JSON.stringify(o) + '\n')
server.http.on('request', (req) => {
  log({ proto: 'http', from: req.socket.remoteAddress + ':' + req.socket.remotePort, url: req.url })
})
server.udp4.on('message', (msg, rinfo) => {
  log({ proto: 'udp', from: rinfo.address + ':' + rinfo.port, len: msg.length })
})
server.on('start', (addr, params) => {
  log({ proto: 'announce', from: addr, peer_id: String(params.peer_id) })
})
server.on('error', (err) => process.stdout.write('ERR ' + err.message + '\n'))
server.on('warning', (err) => process.stdout.write('WARN ' + err.message + '\n'))
server.listen({ http: 0, udp: 0 }, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => {
  process.stdout.write('READY ' + JSON.stringify({ http: server.http.address().port, udp: server.udp4.address().port }) + '\n')
})
