package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryFileLoads(t *testing.T) {
	for _, f := range Files() {
		cases, err := Load(f)
		require.NoError(t, err, f)
		require.NotEmpty(t, cases, f)
	}
}
