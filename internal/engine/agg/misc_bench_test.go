package agg_test

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sortSource makes db.c with n documents {_id: i, k: <pseudo-random int>}.
func sortSource(b testing.TB, n int) (*storage.Store, *storage.Collection) {
	s := storage.New()
	c, err := s.Create("db", "c", nil)
	if err != nil {
		b.Fatal(err)
	}
	x := uint32(12345)
	err = c.Write(func(tx *storage.Tx) error {
		for i := range n {
			x = x*1664525 + 1013904223
			d, raw, err := storage.PrepareDocument(bson.D{{Key: "_id", Value: int32(i)}, {Key: "k", Value: int32(x % 1_000_000)}, {Key: "pad", Value: "some text"}}, nil)
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
		b.Fatal(err)
	}
	return s, c
}

// BenchmarkSortLimit compares {$sort} + {$limit: 10} over 100k documents, which keeps the
// top 10 in a heap, with a full {$sort} of the same documents.
func BenchmarkSortLimit(b *testing.B) {
	s, c := sortSource(b, 100_000)
	ctx := &agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}
	sortStage := bson.D{{Key: "$sort", Value: bson.D{{Key: "k", Value: int32(-1)}, {Key: "_id", Value: int32(1)}}}}
	top, err := agg.Compile(bson.A{sortStage, bson.D{{Key: "$limit", Value: int32(10)}}}, agg.Options{DB: "db"})
	if err != nil {
		b.Fatal(err)
	}
	full, err := agg.Compile(bson.A{sortStage}, agg.Options{DB: "db"})
	if err != nil {
		b.Fatal(err)
	}
	// Both paths agree on the first ten.
	topDocs, err := agg.Collect(top.Run(ctx, c))
	if err != nil {
		b.Fatal(err)
	}
	allDocs, err := agg.Collect(full.Run(ctx, c))
	if err != nil || len(allDocs) != 100_000 || len(topDocs) != 10 {
		b.Fatal(err, len(allDocs), len(topDocs))
	}
	for i := range topDocs {
		if !conformance.Same(topDocs[i], allDocs[i]) {
			b.Fatalf("top-k differs at %d: %v vs %v", i, topDocs[i], allDocs[i])
		}
	}
	b.Run("sort+limit10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, err := range top.Run(ctx, c) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != 10 {
				b.Fatal(n)
			}
		}
	})
	b.Run("fullSort", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, err := range full.Run(ctx, c) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != 100_000 {
				b.Fatal(n)
			}
		}
	})
}
