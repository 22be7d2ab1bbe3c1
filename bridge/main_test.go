package bridge

import (
	"testing"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestMain fails any test whose code logs through the global slog logger.
func TestMain(m *testing.M) { testkit.Main(m) }
