package agg_test

import (
	"fmt"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func benchStore(b *testing.B, n int) (*storage.Store, *storage.Collection) {
	s := storage.New()
	c, err := s.Create("db", "orders", nil)
	if err != nil {
		b.Fatal(err)
	}
	err = c.Write(func(tx *storage.Tx) error {
		for i := range n {
			d, raw, err := storage.PrepareDocument(bson.D{
				{Key: "_id", Value: int32(i)},
				{Key: "customer", Value: fmt.Sprintf("c%03d", i%500)},
				{Key: "status", Value: []string{"new", "paid", "shipped"}[i%3]},
				{Key: "qty", Value: int32(i % 7)},
				{Key: "price", Value: float64(i%100) + 0.5},
			}, nil)
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

func runPipeline(b *testing.B, s *storage.Store, c *storage.Collection, pipeline bson.A) int {
	p, err := agg.Compile(pipeline, agg.Options{DB: "db"})
	if err != nil {
		b.Fatal(err)
	}
	out, err := agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	if err != nil {
		b.Fatal(err)
	}
	return len(out)
}

// BenchmarkMatchGroup100k: $match then $group with two accumulators over 100k documents.
func BenchmarkMatchGroup100k(b *testing.B) {
	s, c := benchStore(b, 100_000)
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{"paid", "shipped"}}}}}}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: "$customer"},
			{Key: "orders", Value: bson.D{{Key: "$sum", Value: int32(1)}}},
			{Key: "revenue", Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$multiply", Value: bson.A{"$qty", "$price"}}}}}},
		}}},
	}
	for b.Loop() {
		if n := runPipeline(b, s, c, pipeline); n != 500 {
			b.Fatal(n)
		}
	}
}

// BenchmarkFiveStagePipelinePerDoc reports the cost of one document through $match,
// $addFields, $project, $group and $sort (ns/op is per document).
func BenchmarkFiveStagePipelinePerDoc(b *testing.B) {
	const n = 20_000
	s, c := benchStore(b, n)
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "qty", Value: bson.D{{Key: "$gte", Value: int32(0)}}}}}},
		bson.D{{Key: "$addFields", Value: bson.D{{Key: "total", Value: bson.D{{Key: "$multiply", Value: bson.A{"$qty", "$price"}}}}}}},
		bson.D{{Key: "$project", Value: bson.D{{Key: "customer", Value: int32(1)}, {Key: "total", Value: int32(1)}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$customer"}, {Key: "t", Value: bson.D{{Key: "$sum", Value: "$total"}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "t", Value: int32(-1)}}}},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		runPipeline(b, s, c, pipeline)
	}
}
