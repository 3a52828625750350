package model

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The benchmark model: 20 fields of the common kinds, and an equivalent bson-tagged
// struct for the driver.
type benchShop struct {
	Embedded
	Street string
	City   string
}

type benchBook struct {
	Model
	Title     string
	Author    string
	ISBN      string
	Summary   string
	Lang      string
	Pages     int32
	Edition   int64
	Views     int64
	Price     float64
	Rating    float64
	Weight    float64
	InStock   bool
	Featured  bool
	Published time.Time
	Updated   time.Time
	Tags      []string
	Shop      benchShop
	Note      *string
}

type driverShop struct {
	Street string `bson:"street"`
	City   string `bson:"city"`
}

type driverBook struct {
	ID        bson.ObjectID `bson:"_id"`
	Title     string        `bson:"title"`
	Author    string        `bson:"author"`
	ISBN      string        `bson:"isbn"`
	Summary   string        `bson:"summary"`
	Lang      string        `bson:"lang"`
	Pages     int32         `bson:"pages"`
	Edition   int64         `bson:"edition"`
	Views     int64         `bson:"views"`
	Price     float64       `bson:"price"`
	Rating    float64       `bson:"rating"`
	Weight    float64       `bson:"weight"`
	InStock   bool          `bson:"in_stock"`
	Featured  bool          `bson:"featured"`
	Published time.Time     `bson:"published"`
	Updated   time.Time     `bson:"updated"`
	Tags      []string      `bson:"tags"`
	Shop      driverShop    `bson:"shop"`
	Note      *string       `bson:"note"`
}

func benchValue() *benchBook {
	note := "signed copy"
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	return &benchBook{
		Model: Model{ID: bson.NewObjectID()},
		Title: "The Go Programming Language", Author: "Donovan and Kernighan", ISBN: "978-0134190440",
		Summary: "A thorough introduction to Go.", Lang: "en", Pages: 380, Edition: 1, Views: 123456789,
		Price: 34.99, Rating: 4.7, Weight: 0.72, InStock: true, Featured: false,
		Published: ts, Updated: ts.Add(time.Hour), Tags: []string{"go", "programming", "classic"},
		Shop: benchShop{Street: "1 Main St", City: "Springfield"}, Note: &note,
	}
}

func benchMeta(b *testing.B) *Meta {
	r := NewRegistry()
	r.MustRegister(benchBook{})
	m, err := r.Meta(benchBook{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkDecode compares decoding one 20-field document with the model's plan and
// with bson.Unmarshal into the equivalent bson-tagged struct.
func BenchmarkDecode(b *testing.B) {
	m := benchMeta(b)
	raw, err := m.Encode(benchValue())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("modjo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var v benchBook
			if err := m.Decode(raw, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bson.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var v driverBook
			if err := bson.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode compares encoding the same document with the model's plan and with
// bson.Marshal of the bson-tagged struct.
func BenchmarkEncode(b *testing.B) {
	m := benchMeta(b)
	v := benchValue()
	var d driverBook
	raw, _ := m.Encode(v)
	if err := bson.Unmarshal(raw, &d); err != nil {
		b.Fatal(err)
	}
	b.Run("modjo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Encode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bson.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bson.Marshal(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
