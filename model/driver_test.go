package model_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// These tests store what Encode writes through the real driver, read the raw document
// back from the server, Decode it, and compare.

type dUUID [16]byte

type dGeo struct {
	model.Embedded
	Lat, Lng float64
}

type dAddr struct {
	model.Embedded
	City string
	Geo  *dGeo
	Tags []string
}

type dCard struct {
	model.Embedded
	Number string
	Exp    fields.Date
}

type dBank struct {
	model.Embedded
	IBAN string
}

type dKinds struct {
	model.Model
	S     string
	SP    *string
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U8    uint8
	U16   uint16
	U32   uint32
	F32   float32
	F64   float64
	FP    *float64
	Dec   bson.Decimal128
	APD   apd.Decimal
	B     bool
	T     time.Time
	TP    *time.Time
	D     fields.Date
	TOD   fields.TimeOfDay
	Dur   time.Duration
	U     dUUID
	Bin   []byte
	OID   bson.ObjectID
	Email string `modjo:"email"`
	JAny  any
	JMap  map[string]any
	J     fields.JSON
	JArr  []any
	Grid  [][]int32
	PtrEl []*string
	Addr  dAddr
	AddrP *dAddr
	Addrs []dAddr
	Pay   fields.Polymorphic   `modjo:"types=dCard|dBank"`
	Pays  []fields.Polymorphic `modjo:"types=dCard|dBank"`
}

type dCode struct {
	model.Base
	Code string `modjo:"primary_key"`
	N    int
}

type dLine struct {
	model.Base
	Order int64  `modjo:"primary_key"`
	Line  int32  `modjo:"primary_key"`
	SKU   string `modjo:"unique"`
	Note  *string
}

func (dLine) Meta() model.Options {
	return model.Options{
		Indexes:        []model.Index{{Fields: []string{"-note", "sku"}, Name: "by_note"}},
		Constraints:    []model.Constraint{model.UniqueConstraint{Name: "one_open_note", Fields: []string{"note"}, Condition: bson.D{{Key: "sku", Value: bson.D{{Key: "$gt", Value: "m"}}}}}},
		UniqueTogether: [][]string{{"sku", "note"}},
	}
}

func driverRegistry(t *testing.T) *model.Registry {
	t.Helper()
	r := model.NewRegistry()
	require.NoError(t, r.Register(dCard{}, dBank{}, dKinds{}, dCode{}, dLine{}))
	return r
}

// storeAndLoad inserts obj's encoding, reads the stored document and decodes it.
func storeAndLoad[T any](t *testing.T, db *mongo.Database, m *model.Meta, obj *T) (*T, bson.Raw) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, m.PrepareSave(obj, true, time.Time{}))
	raw, err := m.Encode(obj)
	require.NoError(t, err)
	coll := db.Collection(m.Collection)
	_, err = coll.InsertOne(ctx, raw)
	require.NoError(t, err)
	id, _ := m.PKValue(obj)
	stored, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	require.NoError(t, err)
	got := new(T)
	require.NoError(t, m.Decode(stored, got))
	return got, stored
}

func TestDriverRoundTrip(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	r := driverRegistry(t)
	m, err := r.Meta(dKinds{})
	require.NoError(t, err)
	ts := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.FixedZone("X", 3600))
	dec, _ := bson.ParseDecimal128("12345.6789")
	a, _, _ := apd.NewFromString("-0.000001")
	s := "pointer"
	full := &dKinds{
		S: "naïve café ☕ \x01", SP: &s, I: math.MinInt64, I8: 127, I16: -32768, I32: math.MaxInt32, I64: math.MaxInt64,
		U8: 255, U16: 65535, U32: math.MaxUint32, F32: -1.5, F64: math.MaxFloat64, FP: new(float64),
		Dec: dec, APD: *a, B: true, T: ts, TP: &ts, D: fields.Date{Year: 1, Month: 1, Day: 2},
		TOD: fields.NewTimeOfDay(0, 0, 0, 1), Dur: 90 * time.Minute, U: dUUID{0xde, 0xad}, Bin: []byte("\x00bytes"),
		OID: bson.NewObjectID(), Email: "x@example.org",
		JAny: map[string]any{"n": int32(1), "list": []any{"a", nil, 2.5}, "deep": map[string]any{"x": map[string]any{"y": false}}},
		JMap: map[string]any{"k": "v"}, J: fields.JSON{Null: true}, JArr: []any{int64(1) << 50},
		Grid: [][]int32{{1, 2}, nil, {3}}, PtrEl: []*string{&s, nil},
		Addr: dAddr{City: "Kyoto", Geo: &dGeo{Lat: 35.0, Lng: 135.7}, Tags: []string{"old"}}, AddrP: &dAddr{City: "Nara"},
		Addrs: []dAddr{{City: "a"}, {City: "b", Tags: []string{"x", "y"}}},
		Pay:   fields.Polymorphic{Value: &dCard{Number: "4111", Exp: fields.Date{Year: 2031, Month: 7, Day: 31}}},
		Pays:  []fields.Polymorphic{{Value: dBank{IBAN: "GB29"}}, {}},
	}
	got, stored := storeAndLoad(t, db, m, full)
	assert.Equal(t, ts.Truncate(time.Millisecond).UTC(), full.T, "PrepareSave truncates to ms and UTC")
	assert.Equal(t, 0, full.APD.Cmp(&got.APD))
	got.APD, full.APD = apd.Decimal{}, apd.Decimal{}
	model.ResetState(got)
	model.ResetState(full)
	full.Pays[0].Value = &dBank{IBAN: "GB29"} // values load as pointers
	assert.Equal(t, full, got)
	assert.Equal(t, bson.TypeNull, stored.Lookup("j").Type, "JSON null is stored as null")

	// The zero value, and extremes that only fit some types.
	zero, stored := storeAndLoad(t, db, m, &dKinds{})
	assert.Equal(t, bson.TypeNull, stored.Lookup("sp").Type)
	_, err = stored.LookupErr("j_any")
	assert.Error(t, err, "a JSONField without a value is not stored")
	assert.Equal(t, fields.Date{}, zero.D)
	assert.True(t, zero.T.IsZero())
	assert.Nil(t, zero.AddrP)
	assert.Nil(t, zero.JAny)

	far := time.Date(275000, 6, 1, 0, 0, 0, 0, time.UTC)
	ext, _ := storeAndLoad(t, db, m, &dKinds{T: far, F64: math.NaN(), F32: float32(math.Inf(-1)), D: fields.Date{Year: -500, Month: 3, Day: 1}})
	assert.Equal(t, far, ext.T)
	assert.True(t, math.IsNaN(ext.F64))
	assert.True(t, math.IsInf(float64(ext.F32), -1))
	assert.Equal(t, fields.Date{Year: -500, Month: 3, Day: 1}, ext.D)
}

// TestDriverInterop: documents written by the driver from bson-tagged structs load into
// models, and what Encode writes decodes with the driver.
func TestDriverInterop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.Database(t)
	r := driverRegistry(t)
	m, _ := r.Meta(dKinds{})
	type other struct {
		ID    bson.ObjectID  `bson:"_id"`
		S     string         `bson:"s"`
		I     int64          `bson:"i"`
		I32   int64          `bson:"i32"` // a wider stored type than the model's
		F64   int32          `bson:"f64"`
		T     time.Time      `bson:"t"`
		Tags  []string       `bson:"legacy_tags"`
		Addr  map[string]any `bson:"addr"`
		JAny  any            `bson:"j_any"`
		Extra string         `bson:"extra"`
	}
	o := other{ID: bson.NewObjectID(), S: "from driver", I: 42, I32: 7, F64: 3, T: time.UnixMilli(1700000000123).UTC(),
		Tags: []string{"a"}, Addr: map[string]any{"city": "Lima", "zone": 5}, JAny: nil, Extra: "kept"}
	coll := db.Collection(m.Collection)
	_, err := coll.InsertOne(ctx, o)
	require.NoError(t, err)
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: o.ID}}).Raw()
	require.NoError(t, err)
	var v dKinds
	require.NoError(t, m.Decode(raw, &v))
	assert.Equal(t, "from driver", v.S)
	assert.Equal(t, 42, v.I)
	assert.Equal(t, int32(7), v.I32)
	assert.Equal(t, 3.0, v.F64)
	assert.Equal(t, o.T, v.T)
	assert.Equal(t, "Lima", v.Addr.City)
	assert.Equal(t, fields.JSONNull, v.JAny, "the driver wrote null: JSON null")
	st := model.StateOf(&v)
	require.NotNil(t, st)
	keys := []string{}
	for _, e := range st.Extra {
		keys = append(keys, e.Key())
	}
	assert.ElementsMatch(t, []string{"legacy_tags", "extra"}, keys)

	// A full-replace save keeps the unknown keys, nested ones included.
	v.S = "changed"
	out, err := m.Encode(&v)
	require.NoError(t, err)
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: o.ID}}, out)
	require.NoError(t, err)
	var back other
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: o.ID}}).Decode(&back))
	assert.Equal(t, "changed", back.S)
	assert.Equal(t, []string{"a"}, back.Tags)
	assert.Equal(t, "kept", back.Extra)
	assert.EqualValues(t, 5, back.Addr["zone"])

	// The driver reads what Encode writes.
	type plain struct {
		ID   bson.ObjectID `bson:"_id"`
		S    string        `bson:"s"`
		I    int64         `bson:"i"`
		Addr struct {
			City string `bson:"city"`
		} `bson:"addr"`
		Pay bson.M `bson:"pay"`
	}
	w := &dKinds{S: "enc", I: 9, Addr: dAddr{City: "Rome"}, Pay: fields.Polymorphic{Value: &dBank{IBAN: "IT60"}}}
	require.NoError(t, m.PrepareSave(w, true, time.Time{}))
	enc, err := m.Encode(w)
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, enc)
	require.NoError(t, err)
	var p plain
	require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: w.ID}}).Decode(&p))
	assert.Equal(t, "enc", p.S)
	assert.Equal(t, int64(9), p.I)
	assert.Equal(t, "Rome", p.Addr.City)
	assert.Equal(t, "dBank", p.Pay["_label"])
}

func TestDriverKeysAndUpdates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.Database(t)
	r := driverRegistry(t)

	cm, _ := r.Meta(dCode{})
	c, stored := storeAndLoad(t, db, cm, &dCode{Code: "EUR", N: 2})
	assert.Equal(t, "EUR", stored.Lookup("_id").StringValue())
	assert.Equal(t, "EUR", c.Code)

	lm, _ := r.Meta(dLine{})
	note := "n"
	l, stored := storeAndLoad(t, db, lm, &dLine{Order: 1, Line: 2, SKU: "a", Note: &note})
	assert.Equal(t, int64(1), stored.Lookup("_id", "order").Int64())
	assert.Equal(t, int32(2), stored.Lookup("_id", "line").Int32())
	assert.Equal(t, "a", l.SKU)

	// Chosen fields through $set/$unset.
	l.SKU = "b"
	l.Note = nil
	upd, err := lm.EncodeUpdate(l, []string{"sku", "note"})
	require.NoError(t, err)
	pk, _ := lm.PKValue(l)
	res, err := db.Collection(lm.Collection).UpdateOne(ctx, bson.D{{Key: "_id", Value: pk}}, upd)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.MatchedCount)
	raw, err := db.Collection(lm.Collection).FindOne(ctx, bson.D{{Key: "_id.order", Value: 1}}).Raw()
	require.NoError(t, err)
	var again dLine
	require.NoError(t, lm.Decode(raw, &again))
	assert.Equal(t, "b", again.SKU)
	assert.Nil(t, again.Note)

	km, _ := r.Meta(dKinds{})
	k, _ := storeAndLoad(t, db, km, &dKinds{JAny: "x", J: fields.JSON{Value: 1}})
	k.JAny = nil // no value: $unset
	k.J = fields.JSON{Null: true}
	upd, err = km.EncodeUpdate(k, []string{"j_any", "j"})
	require.NoError(t, err)
	_, err = db.Collection(km.Collection).UpdateOne(ctx, bson.D{{Key: "_id", Value: k.ID}}, upd)
	require.NoError(t, err)
	raw, err = db.Collection(km.Collection).FindOne(ctx, bson.D{{Key: "_id", Value: k.ID}}).Raw()
	require.NoError(t, err)
	_, err = raw.LookupErr("j_any")
	assert.Error(t, err, "unset")
	assert.Equal(t, bson.TypeNull, raw.Lookup("j").Type)
}

// TestDriverIndexSpecs creates every index a model declares on the server, then checks
// the unique rules behave like Django's (NULLs never collide).
func TestDriverIndexSpecs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.Database(t)
	r := driverRegistry(t)
	lm, _ := r.Meta(dLine{})
	coll := db.Collection(lm.Collection)
	var models []mongo.IndexModel
	for _, s := range lm.IndexSpecs() {
		o := options.Index().SetName(s.Name)
		if s.Unique {
			o.SetUnique(true)
		}
		if s.Sparse {
			o.SetSparse(true)
		}
		if s.PartialFilter != nil {
			o.SetPartialFilterExpression(s.PartialFilter)
		}
		if s.ExpireAfterSeconds != nil {
			o.SetExpireAfterSeconds(*s.ExpireAfterSeconds)
		}
		models = append(models, mongo.IndexModel{Keys: s.Keys, Options: o})
	}
	_, err := coll.Indexes().CreateMany(ctx, models)
	require.NoError(t, err)

	insert := func(v *dLine) error {
		raw, err := lm.Encode(v)
		require.NoError(t, err)
		_, err = coll.InsertOne(ctx, raw)
		return err
	}
	n1, n2 := "x", "y"
	require.NoError(t, insert(&dLine{Order: 1, Line: 1, SKU: "a"}))
	require.NoError(t, insert(&dLine{Order: 1, Line: 2, SKU: "b"}), "two null notes do not collide")
	assert.True(t, mongo.IsDuplicateKeyError(insert(&dLine{Order: 1, Line: 3, SKU: "a"})), "unique sku")
	require.NoError(t, insert(&dLine{Order: 1, Line: 4, SKU: "c", Note: &n1}))
	require.NoError(t, insert(&dLine{Order: 1, Line: 5, SKU: "d", Note: &n1}), "condition sku > m not met")
	require.NoError(t, insert(&dLine{Order: 1, Line: 6, SKU: "n", Note: &n2}))
	assert.True(t, mongo.IsDuplicateKeyError(insert(&dLine{Order: 1, Line: 7, SKU: "o", Note: &n2})), "conditional unique")
}
