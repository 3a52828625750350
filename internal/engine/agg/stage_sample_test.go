package agg_test

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sampleSource makes db.c with n documents whose _id is 0..n-1.
func sampleSource(t testing.TB, n int) (*storage.Store, *storage.Collection) {
	t.Helper()
	s := storage.New()
	c, err := s.Create("db", "c", nil)
	require.NoError(t, err)
	require.NoError(t, c.Write(func(tx *storage.Tx) error {
		for i := range n {
			d, raw, err := storage.PrepareDocument(bson.D{{Key: "_id", Value: int32(i)}, {Key: "x", Value: int32(i * 2)}}, nil)
			if err != nil {
				return err
			}
			if _, err := tx.Insert(d, raw, storage.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	}))
	return s, c
}

func sampleIDs(t testing.TB, s *storage.Store, c *storage.Collection, size int64) []int32 {
	t.Helper()
	p, err := agg.Compile(bson.A{bson.D{{Key: "$sample", Value: bson.D{{Key: "size", Value: size}}}}}, agg.Options{DB: "db"})
	require.NoError(t, err)
	docs, err := agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	require.NoError(t, err)
	ids := make([]int32, len(docs))
	for i, d := range docs {
		ids[i] = d[0].Value.(int32)
		require.Equal(t, ids[i]*2, d[1].Value, "documents come through whole")
	}
	return ids
}

func TestSampleProperties(t *testing.T) {
	s, c := sampleSource(t, 100)
	for _, size := range []int64{1, 7, 50, 99, 100, 150} {
		ids := sampleIDs(t, s, c, size)
		require.Len(t, ids, int(min(size, 100)), "size %d", size)
		seen := map[int32]bool{}
		for _, id := range ids {
			require.True(t, id >= 0 && id < 100, "a sampled document is from the input")
			require.False(t, seen[id], "no document is picked twice (size %d)", size)
			seen[id] = true
		}
	}
	// Empty input, size 0.
	empty, ec := sampleSource(t, 0)
	require.Empty(t, sampleIDs(t, empty, ec, 5))
	require.Empty(t, sampleIDs(t, s, c, 0))
}

func TestSampleIsRandom(t *testing.T) {
	s, c := sampleSource(t, 10)
	// Every document can be picked, about equally often: 2000 draws of one document
	// from ten should give each roughly 200 (the bounds are many deviations wide).
	counts := make([]int, 10)
	for range 2000 {
		counts[sampleIDs(t, s, c, 1)[0]]++
	}
	for id, n := range counts {
		require.Truef(t, n > 100 && n < 320, "document %d picked %d times of 2000", id, n)
	}
	// The order is random too, even when everything is returned.
	orders := map[[10]int32]bool{}
	for range 20 {
		var key [10]int32
		copy(key[:], sampleIDs(t, s, c, 10))
		orders[key] = true
	}
	require.Greater(t, len(orders), 1, "sampling everything shuffles")
}

func TestSampleStopsEarly(t *testing.T) {
	s, c := sampleSource(t, 50)
	p, err := agg.Compile(bson.A{
		bson.D{{Key: "$sample", Value: bson.D{{Key: "size", Value: 2.9}}}},
		bson.D{{Key: "$limit", Value: int32(1)}},
	}, agg.Options{DB: "db"})
	require.NoError(t, err)
	docs, err := agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	require.NoError(t, err)
	require.Len(t, docs, 1)
	// A fractional size truncates, as mongod reads it as a long.
	require.Len(t, sampleIDs(t, s, c, 2), 2)
	p, err = agg.Compile(bson.A{bson.D{{Key: "$sample", Value: bson.D{{Key: "size", Value: 2.9}}}}}, agg.Options{DB: "db"})
	require.NoError(t, err)
	docs, err = agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	require.NoError(t, err)
	require.Len(t, docs, 2)
}
