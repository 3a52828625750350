package agg_test

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// joinStore fills a store with outer documents {_id, ref} and foreign documents
// {_id, key, payload}; every ref matches keysPerRef foreign documents. With index, the
// foreign collection has an index on key.
func joinStore(tb testing.TB, outer, foreign int, index bool) (*storage.Store, *storage.Collection) {
	tb.Helper()
	s := storage.New()
	const distinct = 20_000
	insert := func(name string, n int, build func(i int) bson.D) *storage.Collection {
		c, err := s.Create("db", name, nil)
		if err != nil {
			tb.Fatal(err)
		}
		err = c.Write(func(tx *storage.Tx) error {
			for i := range n {
				d, raw, err := storage.PrepareDocument(build(i), nil)
				if err != nil {
					return err
				}
				if _, err := tx.Insert(d, raw, storage.WriteOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	f := insert("foreign", foreign, func(i int) bson.D {
		return bson.D{{Key: "_id", Value: int32(i)}, {Key: "key", Value: int32(i % distinct)}, {Key: "payload", Value: "p"}}
	})
	if index {
		err := f.Write(func(tx *storage.Tx) error {
			_, err := tx.CreateIndex(storage.IndexSpec{Key: bson.D{{Key: "key", Value: int32(1)}}})
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	o := insert("outer", outer, func(i int) bson.D {
		return bson.D{{Key: "_id", Value: int32(i)}, {Key: "ref", Value: int32((i * 7) % distinct)}}
	})
	return s, o
}

func runJoinPipeline(tb testing.TB, s *storage.Store, c *storage.Collection, pipeline bson.A) []bson.D {
	tb.Helper()
	p, err := agg.Compile(pipeline, agg.Options{DB: "db"})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var (
	equalityLookup = bson.A{bson.D{{Key: "$lookup", Value: bson.D{
		{Key: "from", Value: "foreign"}, {Key: "localField", Value: "ref"},
		{Key: "foreignField", Value: "key"}, {Key: "as", Value: "m"},
	}}}}
	pipelineLookup = bson.A{bson.D{{Key: "$lookup", Value: bson.D{
		{Key: "from", Value: "foreign"}, {Key: "let", Value: bson.D{{Key: "r", Value: "$ref"}}},
		{Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$key", "$$r"}}}}}}}}},
		{Key: "as", Value: "m"},
	}}}}
)

// BenchmarkLookup joins 10k outer documents into a 100k-document collection (5 matches
// each), with and without an index on the foreign field. With the index each join is an
// index lookup; without it, a scan of the foreign collection per outer document.
// The unindexed cases take tens of seconds per operation: run them with -benchtime=1x.
func BenchmarkLookup(b *testing.B) {
	const outer, foreign = 10_000, 100_000
	for _, bc := range []struct {
		name     string
		index    bool
		pipeline bson.A
	}{
		{"equality/indexed", true, equalityLookup},
		{"letPipeline/indexed", true, pipelineLookup},
		{"equality/unindexed", false, equalityLookup},
		{"letPipeline/unindexed", false, pipelineLookup},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, c := joinStore(b, outer, foreign, bc.index)
			for b.Loop() {
				out := runJoinPipeline(b, s, c, bc.pipeline)
				if len(out) != outer || len(out[0][2].Value.(bson.A)) != foreign/20_000 {
					b.Fatalf("unexpected join result: %d documents", len(out))
				}
			}
		})
	}
}
