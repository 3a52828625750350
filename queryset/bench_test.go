package queryset_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/queryset"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Benchmarks compare QuerySets with the raw driver side by side, on the same server and
// collection in the same run (mongotest unless MONGODB_URI is set):
//
//	go test -run '^$' -bench . -benchmem ./queryset/

// BenchBook is a ten-field model; driverBook is the bson-tagged struct the driver
// decodes the same documents into.
type BenchBook struct {
	model.Model
	Title     string
	Author    string
	ISBN      string
	Pages     int64
	Price     float64
	InStock   bool
	Published time.Time
	Tags      []string
	Summary   string
}

type driverBook struct {
	ID        bson.ObjectID `bson:"_id,omitempty"`
	Title     string        `bson:"title"`
	Author    string        `bson:"author"`
	ISBN      string        `bson:"isbn"`
	Pages     int64         `bson:"pages"`
	Price     float64       `bson:"price"`
	InStock   bool          `bson:"in_stock"`
	Published time.Time     `bson:"published"`
	Tags      []string      `bson:"tags"`
	Summary   string        `bson:"summary"`
}

// benchSetup stores n books and returns the handle, the collection and one stored key.
func benchSetup(b *testing.B, n int) (*modjo.DB, *mongo.Collection, bson.ObjectID) {
	b.Helper()
	reg := model.NewRegistry()
	if err := reg.Register(BenchBook{}); err != nil {
		b.Fatal(err)
	}
	mdb := testenv.Database(b)
	db := modjo.New(mdb.Client(), mdb.Name(), reg)
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	objs := make([]*BenchBook, n)
	for i := range objs {
		objs[i] = &BenchBook{
			Title: fmt.Sprintf("Book number %d", i), Author: fmt.Sprintf("Author %d", i%100),
			ISBN: fmt.Sprintf("978-%010d", i), Pages: int64(100 + i%900), Price: float64(i%5000) / 100,
			InStock: i%3 == 0, Published: day.Add(time.Duration(i) * time.Hour),
			Tags: []string{"fiction", fmt.Sprint("tag", i%10)}, Summary: "A book about a great many things, told at length.",
		}
	}
	ctx := context.Background()
	if err := queryset.Objects[BenchBook](db).BulkCreate(ctx, objs); err != nil {
		b.Fatal(err)
	}
	meta, _ := reg.Meta(BenchBook{})
	return db, db.Collection(meta), objs[n/2].ID
}

// BenchmarkFetch10k: every document of a 10k collection. "all" and "iter" are
// QuerySet.All and QuerySet.Iter; "driver" is Find + cursor.All into driverBook; the
// target is modjo ≤ 1.05 × driver.
func BenchmarkFetch10k(b *testing.B) {
	const n = 10_000
	db, coll, _ := benchSetup(b, n)
	ctx := context.Background()
	qs := queryset.Objects[BenchBook](db)
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			got, err := qs.All(ctx)
			if err != nil || len(got) != n {
				b.Fatal(err, len(got))
			}
		}
	})
	b.Run("iter", func(b *testing.B) {
		for b.Loop() {
			k := 0
			for _, err := range qs.Iter(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				k++
			}
			if k != n {
				b.Fatal(k)
			}
		}
	})
	b.Run("driver", func(b *testing.B) {
		for b.Loop() {
			cur, err := coll.Find(ctx, bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			var got []driverBook
			if err := cur.All(ctx, &got); err != nil || len(got) != n {
				b.Fatal(err, len(got))
			}
		}
	})
}

// BenchmarkRoundTrips: Count, Exists and Get by primary key against their raw-driver
// equivalents (CountDocuments, FindOne with an _id projection, FindOne + Decode), on a
// 1k collection.
func BenchmarkRoundTrips(b *testing.B) {
	db, coll, id := benchSetup(b, 1000)
	ctx := context.Background()
	qs := queryset.Objects[BenchBook](db)
	byAuthor := qs.Filter(expr.Q{"author": "Author 7"})
	authorFilter := bson.D{{Key: "author", Value: "Author 7"}}
	idOnly := options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})

	b.Run("count/modjo", func(b *testing.B) {
		for b.Loop() {
			if n, err := byAuthor.Count(ctx); err != nil || n != 10 {
				b.Fatal(err, n)
			}
		}
	})
	b.Run("count/driver", func(b *testing.B) {
		for b.Loop() {
			if n, err := coll.CountDocuments(ctx, authorFilter); err != nil || n != 10 {
				b.Fatal(err, n)
			}
		}
	})
	b.Run("exists/modjo", func(b *testing.B) {
		for b.Loop() {
			if ok, err := byAuthor.Exists(ctx); err != nil || !ok {
				b.Fatal(err)
			}
		}
	})
	b.Run("exists/driver", func(b *testing.B) {
		for b.Loop() {
			if err := coll.FindOne(ctx, authorFilter, idOnly).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get_pk/modjo", func(b *testing.B) {
		for b.Loop() {
			if got, err := qs.Get(ctx, expr.Q{"pk": id}); err != nil || got.ID != id {
				b.Fatal(err)
			}
		}
	})
	b.Run("get_pk/driver", func(b *testing.B) {
		for b.Loop() {
			var got driverBook
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil || got.ID != id {
				b.Fatal(err)
			}
		}
	})
}
