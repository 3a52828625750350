package mongotest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Benchmarks of the embedded server through the official driver. The indexed-lookup
// benchmarks run at 10k and 1M documents: with a working index the 1M figures stay close
// to the 10k ones, while the unindexed scan grows with the collection.

func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		srv, err := mongotest.Start(mongotest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = srv.Close()
	}
}

func benchClient(b *testing.B) *mongo.Client {
	srv := mongotest.NewServer(b)
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func smallDocs(n, offset int) []any {
	docs := make([]any, n)
	for i := range docs {
		k := offset + i
		docs[i] = bson.D{{Key: "_id", Value: k}, {Key: "k", Value: k}, {Key: "u", Value: k}, {Key: "name", Value: fmt.Sprintf("item-%07d", k)}, {Key: "ok", Value: k%2 == 0}}
	}
	return docs
}

func BenchmarkInsertMany100k(b *testing.B) {
	client := benchClient(b)
	docs := smallDocs(100_000, 0)
	i := 0
	for b.Loop() {
		coll := client.Database("bench").Collection(fmt.Sprint("insert", i))
		i++
		if _, err := coll.InsertMany(context.Background(), docs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindByID(b *testing.B) {
	client := benchClient(b)
	coll := client.Database("bench").Collection("byid")
	if _, err := coll.InsertMany(context.Background(), smallDocs(10_000, 0)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		var out bson.Raw
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: i % 10_000}}).Decode(&out); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

// lookupFixture holds collections of 10k and 1M documents with an index on k and none
// on u, built once for all lookup benchmarks.
var lookupFixture struct {
	once   sync.Once
	srv    *mongotest.Server
	client *mongo.Client
	err    error
}

func lookupCollection(b *testing.B, size int) *mongo.Collection {
	f := &lookupFixture
	f.once.Do(func() {
		if f.srv, f.err = mongotest.Start(mongotest.Options{}); f.err != nil {
			return
		}
		if f.client, f.err = mongo.Connect(options.Client().ApplyURI(f.srv.URI())); f.err != nil {
			return
		}
		for _, n := range []int{10_000, 1_000_000} {
			coll := f.client.Database("bench").Collection(fmt.Sprint("lookup", n))
			if _, f.err = coll.Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}}); f.err != nil {
				return
			}
			for off := 0; off < n; off += 100_000 {
				if _, f.err = coll.InsertMany(context.Background(), smallDocs(min(100_000, n-off), off)); f.err != nil {
					return
				}
			}
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.client.Database("bench").Collection(fmt.Sprint("lookup", size))
}

func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{10_000, 1_000_000} {
		coll := lookupCollection(b, size)
		b.Run(fmt.Sprintf("indexed-eq/%d", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				var out bson.Raw
				if err := coll.FindOne(ctx, bson.D{{Key: "k", Value: (i * 7919) % size}}).Decode(&out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("indexed-range10/%d", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				lo := (i * 7919) % (size - 10)
				cur, err := coll.Find(ctx, bson.D{{Key: "k", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lt", Value: lo + 10}}}})
				if err != nil {
					b.Fatal(err)
				}
				var out []bson.Raw
				if err := cur.All(ctx, &out); err != nil || len(out) != 10 {
					b.Fatal(err, len(out))
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("unindexed-eq/%d", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				var out bson.Raw
				if err := coll.FindOne(ctx, bson.D{{Key: "u", Value: (i * 7919) % size}}).Decode(&out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
