package match

import (
	"errors"
	"slices"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestConformance runs every case of query.json through Compile and Match.
func TestConformance(t *testing.T) {
	cases, err := conformance.Load("query.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 250)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ids, err := runFind(c.Docs, c.Filter)
			if c.Error != 0 {
				require.Error(t, err, "expected error %d, matched %v", c.Error, ids)
				var me *mongoerr.Error
				require.True(t, errors.As(err, &me), "not a mongoerr: %v", err)
				require.Equal(t, c.Error, me.Code, "error: %v", err)
				return
			}
			require.NoError(t, err)
			want := c.IDs
			if want == nil {
				want = bson.A{}
			}
			require.Equal(t, len(want), len(ids), "want %v, got %v", want, ids)
			for i := range want {
				require.True(t, value.Equal(want[i], ids[i]), "want %v, got %v", want, ids)
			}
		})
	}
}

// runFind compiles filter and returns the _ids of the matching docs in _id order.
func runFind(docs []bson.D, filter bson.D) (bson.A, error) {
	m, err := Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	ids := bson.A{}
	for _, d := range docs {
		ok, err := m.Match(d, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, value.Get(d, "_id"))
		}
	}
	slices.SortStableFunc(ids, value.Compare)
	return ids, nil
}
