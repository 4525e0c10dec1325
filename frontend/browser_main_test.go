package frontend

import (
	"os"
	"testing"

	"github.com/openlsc/openlsc/frontend/browsertest"
)

// TestMain reports loudly when browser tests were skipped.
func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }
