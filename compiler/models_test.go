package compiler

import (
	"testing"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Test models: a field of every kind the lookups cover.

type Status string

type UUID [16]byte

type Geo struct {
	model.Embedded
	Lat, Lng float64
}

type Address struct {
	model.Embedded
	City   string
	Street *string
	Zip    int32
	Geo    *Geo
}

type Book struct {
	model.Model
	Title     string  `modjo:"max_length=200"`
	Author    *string `modjo:"db_column=writer"`
	Status    Status
	Pages     int32
	Chapters  *int32
	Views     int64
	Rating    float64
	Price     bson.Decimal128
	Published *time.Time
	Released  fields.Date
	Opens     fields.TimeOfDay
	Length    time.Duration
	Active    bool
	Code      UUID
	Blob      []byte
	Ref       bson.ObjectID
	Data      map[string]any
	Tags      []string
	Shop      Address
	Branch    *Address
	Shops     []Address
}

func (Book) Meta() model.Options { return model.Options{Collection: "books"} }

// Ordered has a default ordering.
type Ordered struct {
	model.Model
	Name  string
	Rank  *int32
	Place Address
}

func (Ordered) Meta() model.Options {
	return model.Options{Ordering: []string{"-rank", "place.city", "name"}}
}

// Line has a composite primary key.
type Line struct {
	model.Base
	Order int32 `modjo:"primary_key"`
	No    int16 `modjo:"primary_key;db_column=n"`
	Qty   int32
}

var testRegistry = func() *model.Registry {
	r := model.NewRegistry()
	r.MustRegister(Book{}, Ordered{}, Line{})
	return r
}()

func metaOf(t testing.TB, v any) *model.Meta {
	t.Helper()
	m, err := testRegistry.Meta(v)
	require.NoError(t, err)
	return m
}
