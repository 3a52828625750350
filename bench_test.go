package modjo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Benchmarks compare modjo with the raw driver side by side, on the same server in the
// same run (mongotest unless MONGODB_URI is set):
//
//	go test -run '^$' -bench . -benchmem .

// BenchBook is a ten-field model; driverBook is the bson-tagged struct the driver
// stores identically.
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

func benchBooks(n int) ([]BenchBook, []driverBook) {
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	m := make([]BenchBook, n)
	d := make([]driverBook, n)
	for i := range n {
		m[i] = BenchBook{
			Title: fmt.Sprintf("Book number %d", i), Author: fmt.Sprintf("Author %d", i%100),
			ISBN: fmt.Sprintf("978-%010d", i), Pages: int64(100 + i%900), Price: float64(i%5000) / 100,
			InStock: i%3 == 0, Published: day.Add(time.Duration(i) * time.Hour),
			Tags: []string{"fiction", fmt.Sprint("tag", i%10)}, Summary: "A book about a great many things, told at length.",
		}
		b := &m[i]
		d[i] = driverBook{Title: b.Title, Author: b.Author, ISBN: b.ISBN, Pages: b.Pages, Price: b.Price,
			InStock: b.InStock, Published: b.Published, Tags: b.Tags, Summary: b.Summary}
	}
	return m, d
}

func benchDB(b *testing.B) *DB {
	b.Helper()
	reg := model.NewRegistry()
	if err := reg.Register(BenchBook{}); err != nil {
		b.Fatal(err)
	}
	mdb := testenv.Database(b)
	return New(mdb.Client(), mdb.Name(), reg)
}

// BenchmarkSave10k: 10k new models inserted with one InsertMany. "modjo" is the
// path BulkCreate uses (DB.insertMany: PrepareSave, Meta.Encode, InsertMany of the raw
// documents, the driver assigning the ObjectIDs); "modjo_own_ids" passes documents that
// carry their _id, which the driver decodes once more per document; "driver" is the
// driver's InsertMany of the equivalent bson-tagged structs.
func BenchmarkSave10k(b *testing.B) {
	const n = 10_000
	db := benchDB(b)
	ctx := context.Background()
	meta, _ := db.Registry().Meta(BenchBook{})
	info := db.infoOf(meta)
	coll := db.Collection(meta)
	books, dbooks := benchBooks(n)
	objs := make([]any, n)
	for i := range books {
		objs[i] = &books[i]
	}

	b.Run("modjo", func(b *testing.B) {
		for b.Loop() {
			for i := range books {
				books[i].ID = bson.ObjectID{}
			}
			if err := db.insertMany(ctx, info, objs); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			dropBench(b, coll)
			b.StartTimer()
		}
	})
	b.Run("modjo_own_ids", func(b *testing.B) {
		docs := make([]bson.Raw, n)
		for b.Loop() {
			now := time.Now()
			for i := range books {
				books[i].ID = bson.ObjectID{}
				if err := meta.PrepareSave(&books[i], true, now); err != nil {
					b.Fatal(err)
				}
				raw, err := meta.Encode(&books[i])
				if err != nil {
					b.Fatal(err)
				}
				docs[i] = raw
			}
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			dropBench(b, coll)
			b.StartTimer()
		}
	})
	b.Run("driver", func(b *testing.B) {
		for b.Loop() {
			if _, err := coll.InsertMany(ctx, dbooks); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			dropBench(b, coll)
			b.StartTimer()
		}
	})
}

// BenchmarkSave1k: 1k individual db.Save inserts against 1k driver InsertOne.
func BenchmarkSave1k(b *testing.B) {
	const n = 1_000
	db := benchDB(b)
	ctx := context.Background()
	meta, _ := db.Registry().Meta(BenchBook{})
	coll := db.Collection(meta)
	books, dbooks := benchBooks(n)

	b.Run("modjo", func(b *testing.B) {
		for b.Loop() {
			for i := range books {
				books[i].ID = bson.ObjectID{}
				if err := db.Save(ctx, &books[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			dropBench(b, coll)
			b.StartTimer()
		}
	})
	b.Run("driver", func(b *testing.B) {
		for b.Loop() {
			for i := range dbooks {
				if _, err := coll.InsertOne(ctx, &dbooks[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			dropBench(b, coll)
			b.StartTimer()
		}
	})
}

// BenchmarkLoad10k: Find of 10k documents decoded with Meta.Decode from each
// cur.Current, against the driver's Find + cursor.All into the structs.
func BenchmarkLoad10k(b *testing.B) {
	const n = 10_000
	db := benchDB(b)
	ctx := context.Background()
	meta, _ := db.Registry().Meta(BenchBook{})
	coll := db.Collection(meta)
	books, _ := benchBooks(n)
	docs := make([]bson.Raw, n)
	now := time.Now()
	for i := range books {
		if err := meta.PrepareSave(&books[i], true, now); err != nil {
			b.Fatal(err)
		}
		raw, err := meta.Encode(&books[i])
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = raw
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}

	b.Run("modjo", func(b *testing.B) {
		for b.Loop() {
			cur, err := coll.Find(ctx, bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			var out []BenchBook
			for cur.Next(ctx) {
				out = append(out, BenchBook{})
				if err := meta.Decode(cur.Current, &out[len(out)-1]); err != nil {
					b.Fatal(err)
				}
			}
			if err := cur.Err(); err != nil {
				b.Fatal(err)
			}
			_ = cur.Close(ctx)
			if len(out) != n {
				b.Fatalf("loaded %d", len(out))
			}
		}
	})
	b.Run("driver", func(b *testing.B) {
		for b.Loop() {
			cur, err := coll.Find(ctx, bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			var out []driverBook
			if err := cur.All(ctx, &out); err != nil {
				b.Fatal(err)
			}
			if len(out) != n {
				b.Fatalf("loaded %d", len(out))
			}
		}
	})
}

func dropBench(b *testing.B, coll *mongo.Collection) {
	if err := coll.Drop(context.Background()); err != nil {
		b.Fatal(err)
	}
}
