package queryset

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustRaw(t *testing.T, ext string) bson.Raw {
	t.Helper()
	var d bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(ext), false, &d))
	raw, err := bson.Marshal(d)
	require.NoError(t, err)
	return raw
}
