package swarm

import (
	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// ensureSecret gives a share saved before contents had a swarm secret
// (docs/protocol.md, R1) a fresh one, so its links find holders through
// the rendezvous slots too. A download keeps what its link carried: a
// secret of its own would make a swarm nobody else finds.
func (e *Engine) ensureSecret(id hcrypto.ContentID, rec *record) *record {
	if rec.Kind != KindShare || rec.swarmSecret() != nil {
		return rec
	}
	s, err := hcrypto.NewSwarmSecret()
	if err != nil {
		e.log.Warn("no swarm secret for an old share", "content", id, "err", err)
		return rec
	}
	r := *rec
	r.Secret = s[:]
	if err := e.db.putRecord(id, &r); err != nil {
		e.log.Warn("no swarm secret for an old share", "content", id, "err", err)
		return rec
	}
	return &r
}
