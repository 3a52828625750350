package model

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type (
	kLevel  int8
	kStatus string
	kUUID   [16]byte
)

type kGeo struct {
	Embedded
	Lat, Lng float64
}

type kAddr struct {
	Embedded
	Street string
	City   string
	Geo    *kGeo
	Lines  []string
}

type kCard struct {
	Embedded
	Number  string
	Expires fields.Date
	Seen    time.Time
}

type kBank struct {
	Embedded
	IBAN string
}

type kNode struct {
	Embedded
	Name     string
	Children []kNode
}

// allKinds has a field of every kind, pointer forms included.
type allKinds struct {
	Model
	S     string
	SP    *string
	St    kStatus
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U8    uint8
	U16   uint16
	U32   uint32
	Lvl   kLevel
	IP    *int64
	F32   float32
	F64   float64
	FP    *float64
	Dec   bson.Decimal128
	APD   apd.Decimal
	DecP  *bson.Decimal128
	APDP  *apd.Decimal
	B     bool
	BP    *bool
	T     time.Time
	TP    *time.Time
	D     fields.Date
	DP    *fields.Date
	TOD   fields.TimeOfDay
	Dur   time.Duration
	U     kUUID
	UP    *kUUID
	Bin   []byte
	BinP  *[]byte
	OID   bson.ObjectID
	OIDP  *bson.ObjectID
	Email string `modjo:"email"`
	JAny  any
	JMap  map[string]any
	J     fields.JSON
	JArr  []any
	Ints  []int64
	Grid  [][]string
	StrsP *[]string
	PtrEl []*string
	Times []time.Time
	UUIDs []kUUID
	Addr  kAddr
	AddrP *kAddr
	Addrs []kAddr
	Tree  kNode
	Pay   fields.Polymorphic   `modjo:"types=kCard|kBank"`
	Pays  []fields.Polymorphic `modjo:"types=kCard|kBank"`
}

func kindsMeta(t testing.TB) *Meta {
	t.Helper()
	r := NewRegistry()
	require.NoError(t, r.Register(kCard{}, kBank{}, allKinds{}))
	m, err := r.Meta(allKinds{})
	require.NoError(t, err)
	return m
}

func ptr[T any](v T) *T { return &v }

func fullKinds() *allKinds {
	ts := time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC)
	d := bson.NewDecimal128(0x3040000000000000, 12345) // 123.45 is 12345E-2
	dec, _ := bson.ParseDecimal128("-1234567890.123456789012345678901234")
	a, _, _ := apd.NewFromString("98765432109876543210.0123456789")
	bin := []byte{0, 1, 2, 255}
	return &allKinds{
		Model: Model{ID: bson.NewObjectID()},
		S:     "héllo, 世界 🎉", SP: ptr(""), St: "draft",
		I: math.MaxInt64, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MinInt64,
		U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, Lvl: -3, IP: ptr(int64(0)),
		F32: math.MaxFloat32, F64: math.Inf(-1), FP: ptr(math.SmallestNonzeroFloat64),
		Dec: dec, APD: *a, DecP: &d, APDP: apd.New(-5, -3),
		B: true, BP: ptr(false),
		T: ts, TP: ptr(time.Date(-1000, 1, 1, 0, 0, 0, 0, time.UTC)),
		D: fields.Date{Year: 9999, Month: 12, Day: 31}, DP: &fields.Date{Year: 1970, Month: 1, Day: 1},
		TOD: fields.NewTimeOfDay(23, 59, 59, 999999), Dur: -time.Duration(math.MaxInt64),
		U: kUUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, UP: &kUUID{},
		Bin: bin, BinP: &bin, OID: bson.NewObjectID(), OIDP: &bson.ObjectID{},
		Email: "a@example.com",
		JAny:  map[string]any{"a": []any{int32(1), "x", nil, map[string]any{"b": true}}, "n": int64(1) << 40},
		JMap:  map[string]any{"k": 1.5, "d": bson.DateTime(12345), "o": bson.ObjectID{1}},
		J:     fields.JSON{Value: "text"},
		JArr:  []any{int32(1), []any{}, map[string]any{}},
		Ints:  []int64{1, -1, math.MaxInt64}, Grid: [][]string{{"a", "b"}, nil, {"c"}},
		StrsP: &[]string{"x"}, PtrEl: []*string{ptr("a"), nil, ptr("")},
		Times: []time.Time{ts, {}}, UUIDs: []kUUID{{9}},
		Addr:  kAddr{Street: "1 Main", City: "Zürich", Geo: &kGeo{Lat: 47.37, Lng: 8.54}, Lines: []string{"c/o"}},
		AddrP: &kAddr{City: "Paris"}, Addrs: []kAddr{{City: "A"}, {City: "B", Geo: &kGeo{}}},
		Tree: kNode{Name: "root", Children: []kNode{{Name: "a", Children: []kNode{{Name: "a1"}}}, {Name: "b"}}},
		Pay:  fields.Polymorphic{Value: &kCard{Number: "4242", Expires: fields.Date{Year: 2030, Month: 1, Day: 1}, Seen: ts}},
		Pays: []fields.Polymorphic{{Value: &kBank{IBAN: "DE00"}}, {}, {Value: &kCard{Number: "1"}}},
	}
}

// roundTrip encodes v, decodes into a new value and returns it with the raw document.
func roundTrip(t *testing.T, m *Meta, v *allKinds) (*allKinds, bson.Raw) {
	t.Helper()
	raw, err := m.Encode(v)
	require.NoError(t, err)
	require.NoError(t, bson.Raw(raw).Validate(), "Encode writes valid BSON")
	var got allKinds
	require.NoError(t, m.Decode(raw, &got))
	require.True(t, StateOf(&got).Loaded)
	return &got, raw
}

// sameKinds compares two allKinds, with decimals compared by value (apd's internal
// representation may differ for equal numbers).
func sameKinds(t *testing.T, want, got *allKinds) {
	t.Helper()
	w, g := *want, *got
	assert.Equal(t, 0, w.APD.Cmp(&g.APD), "APD %s vs %s", w.APD.String(), g.APD.String())
	w.APD, g.APD = apd.Decimal{}, apd.Decimal{}
	if w.APDP != nil && g.APDP != nil {
		assert.Equal(t, 0, w.APDP.Cmp(g.APDP))
		w.APDP, g.APDP = nil, nil
	}
	ResetState(&w)
	ResetState(&g)
	assert.Equal(t, w, g)
}

func TestRoundTripAllKinds(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	v := fullKinds()
	got, raw := roundTrip(t, m, v)
	sameKinds(t, v, got)

	// Stored types.
	typ := func(key string) bson.Type { return bson.Raw(raw).Lookup(key).Type }
	assert.Equal(t, bson.TypeObjectID, typ("_id"))
	assert.Equal(t, "_id", bson.Raw(raw).Index(0).Key(), "_id comes first")
	for key, want := range map[string]bson.Type{
		"i": bson.TypeInt64, "i8": bson.TypeInt32, "i16": bson.TypeInt32, "i32": bson.TypeInt32, "i64": bson.TypeInt64,
		"u8": bson.TypeInt32, "u16": bson.TypeInt32, "u32": bson.TypeInt64, "lvl": bson.TypeInt32, "f32": bson.TypeDouble,
		"dec": bson.TypeDecimal128, "apd": bson.TypeDecimal128, "t": bson.TypeDateTime, "d": bson.TypeDateTime,
		"tod": bson.TypeInt64, "dur": bson.TypeInt64, "u": bson.TypeBinary, "bin": bson.TypeBinary, "oid": bson.TypeObjectID,
		"j_any": bson.TypeEmbeddedDocument, "j_arr": bson.TypeArray, "grid": bson.TypeArray, "addr": bson.TypeEmbeddedDocument,
		"pay": bson.TypeEmbeddedDocument, "sp": bson.TypeString, "j": bson.TypeString,
	} {
		assert.Equal(t, want, typ(key), key)
	}
	sub, data := bson.Raw(raw).Lookup("u").Binary()
	assert.Equal(t, byte(4), sub)
	assert.Len(t, data, 16)
	sub, _ = bson.Raw(raw).Lookup("bin").Binary()
	assert.Equal(t, byte(0), sub)
	assert.Equal(t, "kCard", bson.Raw(raw).Lookup("pay", "_label").StringValue())
	assert.Equal(t, int64(fields.NewTimeOfDay(23, 59, 59, 999999)), bson.Raw(raw).Lookup("tod").Int64())
	assert.Equal(t, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli(), bson.Raw(raw).Lookup("d").DateTime())
	assert.Equal(t, "-1234567890.123456789012345678901234", bson.Raw(raw).Lookup("dec").Decimal128().String())
	assert.Equal(t, "-0.005", bson.Raw(raw).Lookup("apdp").Decimal128().String())
}

func TestRoundTripZeroValues(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	var zero allKinds
	got, raw := roundTrip(t, m, &zero)
	sameKinds(t, &zero, got)
	// Nil pointers are stored as null; JSONFields without a value are not stored.
	assert.Equal(t, bson.TypeNull, bson.Raw(raw).Lookup("sp").Type)
	assert.Equal(t, bson.TypeNull, bson.Raw(raw).Lookup("pay").Type)
	for _, key := range []string{"j_any", "j_map", "j", "j_arr"} {
		_, err := bson.Raw(raw).LookupErr(key)
		assert.Error(t, err, key)
	}
	// Empty slices are stored as empty arrays and load as nil.
	assert.Equal(t, bson.TypeArray, bson.Raw(raw).Lookup("ints").Type)
	assert.Equal(t, time.Time{}.UnixMilli(), bson.Raw(raw).Lookup("t").DateTime())
}

func TestRoundTripSpecialFloats(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	v := &allKinds{F64: math.NaN(), F32: float32(math.Inf(1)), FP: ptr(math.Copysign(0, -1))}
	got, _ := roundTrip(t, m, v)
	assert.True(t, math.IsNaN(got.F64))
	assert.True(t, math.IsInf(float64(got.F32), 1))
	assert.True(t, math.Signbit(*got.FP), "negative zero keeps its sign")
	nan, _ := bson.ParseDecimal128("NaN")
	inf, _ := bson.ParseDecimal128("-Infinity")
	v = &allKinds{Dec: nan, APD: apd.Decimal{Form: apd.Infinite}, DecP: &inf}
	got, _ = roundTrip(t, m, v)
	assert.True(t, got.Dec.IsNaN())
	assert.Equal(t, apd.Infinite, got.APD.Form)
	assert.Equal(t, -1, got.DecP.IsInf())
}

func TestJSONNullVersusMissing(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	v := &allKinds{JAny: fields.JSONNull, J: fields.JSON{Null: true}}
	got, raw := roundTrip(t, m, v)
	assert.Equal(t, bson.TypeNull, bson.Raw(raw).Lookup("j_any").Type)
	assert.Equal(t, bson.TypeNull, bson.Raw(raw).Lookup("j").Type)
	assert.Equal(t, fields.JSONNull, got.JAny)
	assert.Equal(t, fields.JSON{Null: true}, got.J)
	assert.Nil(t, got.JMap)

	v = &allKinds{JAny: int32(0), J: fields.JSON{Value: false}, JMap: map[string]any{}, JArr: []any{nil}}
	got, _ = roundTrip(t, m, v)
	assert.Equal(t, int32(0), got.JAny)
	assert.Equal(t, fields.JSON{Value: false}, got.J)
	assert.Equal(t, map[string]any{}, got.JMap)
	assert.Equal(t, []any{nil}, got.JArr, "null inside a value is plain nil")

	// Go values of other types are stored natively and load as plain values.
	v = &allKinds{JAny: bson.D{{Key: "z", Value: 1}, {Key: "a", Value: uint8(2)}}, JMap: map[string]any{"t": time.UnixMilli(5).UTC(), "s": []string{"a"}, "raw": bson.RawValue{Type: bson.TypeInt64, Value: []byte{1, 0, 0, 0, 0, 0, 0, 0}}}}
	got, raw = roundTrip(t, m, v)
	assert.Equal(t, map[string]any{"z": int32(1), "a": int32(2)}, got.JAny)
	assert.Equal(t, "z", bson.Raw(raw).Lookup("j_any").Document().Index(0).Key(), "bson.D keeps its order")
	assert.Equal(t, map[string]any{"t": bson.DateTime(5), "s": []any{"a"}, "raw": int64(1)}, got.JMap)

	_, err := m.Encode(&allKinds{JAny: make(chan int)})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "j_any", ee.Field)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	_, err = m.Encode(&allKinds{JMap: cyclic})
	assert.ErrorContains(t, err, "nested too deeply")
	_, err = m.Encode(&allKinds{JMap: map[string]any{"a\x00b": 1}})
	assert.ErrorContains(t, err, "zero byte")
}

func TestJSONDecodesEveryBSONType(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	code := bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "a", Value: int32(1)}}}
	doc := bson.D{
		{Key: "double", Value: 1.5}, {Key: "string", Value: "s"}, {Key: "doc", Value: bson.D{{Key: "a", Value: int32(1)}}},
		{Key: "array", Value: bson.A{int32(1)}}, {Key: "bin", Value: bson.Binary{Subtype: 0x80, Data: []byte{1}}},
		{Key: "old", Value: bson.Binary{Subtype: 2, Data: []byte{7, 8}}},
		{Key: "undef", Value: bson.Undefined{}}, {Key: "oid", Value: bson.ObjectID{1}}, {Key: "bool", Value: true},
		{Key: "date", Value: bson.DateTime(-5)}, {Key: "null", Value: nil}, {Key: "regex", Value: bson.Regex{Pattern: "a.*", Options: "i"}},
		{Key: "dbp", Value: bson.DBPointer{DB: "db.c", Pointer: bson.ObjectID{2}}}, {Key: "js", Value: bson.JavaScript("f()")},
		{Key: "sym", Value: bson.Symbol("s")}, {Key: "cws", Value: code}, {Key: "i32", Value: int32(-1)},
		{Key: "ts", Value: bson.Timestamp{T: 10, I: 20}}, {Key: "i64", Value: int64(-2)},
		{Key: "dec", Value: bson.NewDecimal128(1, 2)}, {Key: "min", Value: bson.MinKey{}}, {Key: "max", Value: bson.MaxKey{}},
	}
	inner, err := bson.Marshal(doc)
	require.NoError(t, err)
	raw, err := bson.Marshal(bson.D{{Key: "j_map", Value: bson.Raw(inner)}})
	require.NoError(t, err)
	var got allKinds
	require.NoError(t, m.Decode(raw, &got))
	jm := got.JMap
	assert.Equal(t, 1.5, jm["double"])
	assert.Equal(t, map[string]any{"a": int32(1)}, jm["doc"])
	assert.Equal(t, bson.Binary{Subtype: 0x80, Data: []byte{1}}, jm["bin"])
	assert.Equal(t, bson.Binary{Subtype: 2, Data: []byte{7, 8}}, jm["old"])
	assert.Equal(t, bson.Undefined{}, jm["undef"])
	assert.Equal(t, bson.DateTime(-5), jm["date"])
	assert.Nil(t, jm["null"])
	assert.Contains(t, jm, "null")
	assert.Equal(t, bson.Regex{Pattern: "a.*", Options: "i"}, jm["regex"])
	assert.Equal(t, bson.DBPointer{DB: "db.c", Pointer: bson.ObjectID{2}}, jm["dbp"])
	assert.Equal(t, bson.Symbol("s"), jm["sym"])
	assert.Equal(t, bson.JavaScript("x"), jm["cws"].(bson.CodeWithScope).Code)
	assert.Equal(t, bson.Timestamp{T: 10, I: 20}, jm["ts"])
	assert.Equal(t, bson.NewDecimal128(1, 2), jm["dec"])
	assert.Equal(t, bson.MinKey{}, jm["min"])
	assert.Equal(t, bson.MaxKey{}, jm["max"])
	// And they are written back as they were (sorted keys aside).
	again, err := m.Encode(&got)
	require.NoError(t, err)
	for _, e := range doc {
		if e.Key == "cws" {
			continue // the driver writes a scope from bson.Raw the same way; compared below
		}
		want, _ := bson.Raw(raw).LookupErr("j_map", e.Key)
		have, err := bson.Raw(again).LookupErr("j_map", e.Key)
		require.NoError(t, err, e.Key)
		assert.True(t, want.Equal(have), "%s: %v vs %v", e.Key, want, have)
	}
}

func TestPolymorphicValues(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	// A value (not a pointer) is accepted and loads back as a pointer.
	v := &allKinds{Pay: fields.Polymorphic{Value: kBank{IBAN: "FR76"}}}
	got, raw := roundTrip(t, m, v)
	assert.Equal(t, &kBank{IBAN: "FR76"}, got.Pay.Value)
	assert.Equal(t, "kBank", bson.Raw(raw).Lookup("pay", "_label").StringValue())
	assert.Equal(t, "_label", bson.Raw(raw).Lookup("pay").Document().Index(0).Key(), "the label comes first")

	_, err := m.Encode(&allKinds{Pay: fields.Polymorphic{Value: kGeo{}}})
	assert.ErrorContains(t, err, "a model.kGeo is not one of the polymorphic types (kCard, kBank)")
	_, err = m.Encode(&allKinds{Pay: fields.Polymorphic{Value: (*kCard)(nil)}})
	assert.NoError(t, err, "a nil *T is stored as null")

	for doc, want := range map[string]string{
		`{"pay": {"IBAN": "x"}}`:                       "has no _label key",
		`{"pay": {"_label": "kGeo"}}`:                  `polymorphic label "kGeo" is not one of kCard, kBank`,
		`{"pay": {"_label": 5}}`:                       "is not a string",
		`{"pays": [{"_label": "kCard", "number": 4}]}`: "pays.0.number",
	} {
		var x allKinds
		err := m.Decode(extJSON(t, doc), &x)
		assert.ErrorContains(t, err, want, doc)
	}
}

func extJSON(t testing.TB, s string) bson.Raw {
	t.Helper()
	var raw bson.Raw
	require.NoError(t, bson.UnmarshalExtJSON([]byte(s), false, &raw))
	return raw
}

// TestDecodeCompatibleValues: values written by other programs with a compatible type
// load; the rest are refused with the model, field, stored type and _id.
func TestDecodeCompatibleValues(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	load := func(doc string) (*allKinds, error) {
		var v allKinds
		err := m.Decode(extJSON(t, doc), &v)
		return &v, err
	}
	v, err := load(`{"i32": {"$numberLong": "7"}, "i64": 5, "i": 3.0, "f64": 2, "f32": {"$numberLong": "3"},
		"dec": 5, "apd": 2.5, "dec_p": {"$numberLong": "-9"}, "s": {"$symbol": "sym"}, "u": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "03"}},
		"tod": 3600000000, "dur": {"$numberLong": "1000"}, "d": {"$date": "2024-05-06T13:14:15Z"}, "bin": {"$binary": {"base64": "AQ==", "subType": "80"}},
		"ints": [1, 2.0, {"$numberLong": "3"}], "s_p": null, "st": null, "addr": null, "grid": null, "i8": null, "b": null}`)
	require.NoError(t, err)
	assert.Equal(t, int32(7), v.I32)
	assert.Equal(t, int64(5), v.I64)
	assert.Equal(t, 3, v.I)
	assert.Equal(t, 2.0, v.F64)
	assert.Equal(t, float32(3), v.F32)
	assert.Equal(t, "5", v.Dec.String())
	assert.Equal(t, "2.5", v.APD.String())
	assert.Equal(t, "-9", v.DecP.String())
	assert.Equal(t, "sym", v.S)
	assert.Equal(t, kUUID{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, v.U)
	assert.Equal(t, fields.NewTimeOfDay(1, 0, 0, 0), v.TOD)
	assert.Equal(t, time.Microsecond, v.Dur)
	assert.Equal(t, fields.Date{Year: 2024, Month: 5, Day: 6}, v.D, "a stored time of day is dropped")
	assert.Equal(t, []byte{1}, v.Bin)
	assert.Equal(t, []int64{1, 2, 3}, v.Ints)

	bad := []struct{ doc, field, typ, msg string }{
		{`{"_id": {"$oid": "5f0c8f1b2e4a3b1c9d8e7f60"}, "i32": {"$numberLong": "2147483648"}}`, "i32", "long", "out of range for int32"},
		{`{"i8": 128}`, "i8", "int", "out of range for int8"},
		{`{"u8": -1}`, "u8", "int", "out of range for uint8"},
		{`{"u32": {"$numberLong": "4294967296"}}`, "u32", "long", "out of range for uint32"},
		{`{"i": 1.5}`, "i", "double", "not a whole number"},
		{`{"i": {"$numberDouble": "NaN"}}`, "i", "double", "not a whole number"},
		{`{"i": 1e19}`, "i", "double", "out of range"},
		{`{"i": "5"}`, "i", "string", "a stored string does not fit int"},
		{`{"s": 5}`, "s", "int", "a stored int does not fit string"},
		{`{"f64": {"$numberLong": "9007199254740993"}}`, "f64", "long", "has no exact float64"},
		{`{"f32": 1e300}`, "f32", "double", "out of range for float32"},
		{`{"t": "2020-01-01"}`, "t", "string", "does not fit time.Time"},
		{`{"tod": {"$numberLong": "86400000000"}}`, "tod", "long", "out of range for fields.TimeOfDay"},
		{`{"u": {"$binary": {"base64": "AQ==", "subType": "04"}}}`, "u", "binData", "is not a UUID"},
		{`{"oid": "x"}`, "oid", "string", "does not fit bson.ObjectID"},
		{`{"b": 1}`, "b", "int", "does not fit bool"},
		{`{"dec": "1"}`, "dec", "string", "does not fit bson.Decimal128"},
		{`{"ints": [1, "x"]}`, "ints.1", "string", "does not fit int64"},
		{`{"ints": {"a": 1}}`, "ints", "object", "does not fit []int64"},
		{`{"addr": {"geo": {"lat": "n"}}}`, "addr.geo.lat", "string", "does not fit float64"},
		{`{"addrs": [{"city": 1}]}`, "addrs.0.city", "int", ""},
		{`{"tree": {"children": [{"children": [{"name": false}]}]}}`, "tree.children.0.children.0.name", "bool", ""},
		{`{"j_map": [1]}`, "j_map", "array", "does not fit map[string]any"},
		{`{"j_arr": {}}`, "j_arr", "object", "does not fit []any"},
		{`{"bin": 5}`, "bin", "int", "does not fit []uint8"},
		{`{"d": 5}`, "d", "int", "does not fit fields.Date"},
		{`{"apd": "x"}`, "apd", "string", "does not fit apd.Decimal"},
	}
	for _, c := range bad {
		_, err := load(c.doc)
		var de *DecodeError
		if !assert.ErrorAs(t, err, &de, c.doc) {
			continue
		}
		assert.Equal(t, "allKinds", de.Model, c.doc)
		assert.Equal(t, c.field, de.Field, c.doc)
		assert.Equal(t, c.typ, de.Type, c.doc)
		assert.Contains(t, err.Error(), c.msg, c.doc)
	}
	_, err = load(`{"_id": {"$oid": "5f0c8f1b2e4a3b1c9d8e7f60"}, "i": "x"}`)
	assert.EqualError(t, err, `modjo: cannot load allKinds document _id ObjectID("5f0c8f1b2e4a3b1c9d8e7f60"): field i: a stored string does not fit int`)
	_, err = load(`{"_id": "k1", "i": "x"}`)
	assert.ErrorContains(t, err, `document _id "k1"`)
	_, err = load(`{"i": "x"}`)
	assert.ErrorContains(t, err, "without _id")
}

func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	good, err := m.Encode(fullKinds())
	require.NoError(t, err)
	cases := map[string][]byte{
		"empty":          nil,
		"short":          {5, 0, 0},
		"length":         append([]byte{0xff, 0, 0, 0}, good[4:]...),
		"no terminator":  append(append([]byte{}, good[:len(good)-1]...), 1),
		"bad type":       {12, 0, 0, 0, 0x42, 'a', 0, 0, 0, 0, 0, 0},
		"open key":       {8, 0, 0, 0, 0x10, 'a', 'b', 0},
		"short int":      {10, 0, 0, 0, 0x10, 'i', '3', '2', 0, 0},
		"neg string len": {17, 0, 0, 0, 0x02, 's', 0, 0xff, 0xff, 0xff, 0xff, 'x', 0, 0, 0, 0, 0},
		"bad bool":       {10, 0, 0, 0, 0x08, 'b', 0, 7, 0, 0},
		"bad subdoc":     {13, 0, 0, 0, 0x03, 'a', 'd', 'd', 'r', 0, 5, 0, 0},
	}
	for name, doc := range cases {
		var v allKinds
		err := m.Decode(doc, &v)
		var de *DecodeError
		assert.ErrorAs(t, err, &de, name)
	}
	// Every truncation of a valid document fails cleanly.
	for i := 0; i < len(good); i++ {
		var v allKinds
		assert.Error(t, m.Decode(good[:i], &v))
	}
}

func TestUnknownKeysPreserved(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	doc := extJSON(t, `{"_id": {"$oid": "5f0c8f1b2e4a3b1c9d8e7f60"}, "legacy": [1, {"x": "y"}], "s": "kept",
		"addr": {"city": "Oslo", "zip": "0150", "geo": {"lat": 1, "alt": 300}}, "addrs": [{"city": "A", "note": true}],
		"pay": {"_label": "kBank", "iban": "NO93", "bic": "DNBANOKK"}, "z": null}`)
	var v allKinds
	require.NoError(t, m.Decode(doc, &v))
	st := StateOf(&v)
	require.NotNil(t, st)
	require.Len(t, st.Extra, 2)
	assert.Equal(t, "legacy", st.Extra[0].Key())
	assert.Equal(t, "z", st.Extra[1].Key())
	assert.Equal(t, "Oslo", v.Addr.City)

	raw, err := m.Encode(&v)
	require.NoError(t, err)
	for _, path := range [][]string{{"legacy"}, {"z"}, {"addr", "zip"}, {"addr", "geo", "alt"}, {"addrs", "0", "note"}, {"pay", "bic"}} {
		want, err := doc.LookupErr(path...)
		require.NoError(t, err, path)
		have, err := bson.Raw(raw).LookupErr(path...)
		require.NoError(t, err, "key %v kept", path)
		assert.True(t, want.Equal(have), path)
	}
	// A second decode into the same instance resets the fields and the extras.
	require.NoError(t, m.Decode(extJSON(t, `{"s": "only"}`), &v))
	assert.Empty(t, StateOf(&v).Extra)
	assert.Equal(t, "only", v.S)
	assert.Equal(t, kAddr{}, v.Addr)
	assert.Same(t, st, StateOf(&v), "the State is reused")
}

func TestDecodeKeyOrderAndDuplicates(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	var v allKinds
	require.NoError(t, m.Decode(extJSON(t, `{"u8": 1, "s": "x", "i": 2, "_id": {"$oid": "5f0c8f1b2e4a3b1c9d8e7f60"}, "s": "y"}`), &v))
	assert.Equal(t, uint8(1), v.U8)
	assert.Equal(t, "y", v.S, "the last duplicate wins")
	assert.Equal(t, 2, v.I)
	assert.Equal(t, "5f0c8f1b2e4a3b1c9d8e7f60", v.ID.Hex())
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	far := time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := m.Encode(&allKinds{Times: []time.Time{{}, far}})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "times.1", ee.Field)
	assert.Contains(t, err.Error(), "outside the range of a BSON date")
	huge, _, _ := apd.NewFromString("1e7000")
	_, err = m.Encode(&allKinds{APD: *huge})
	assert.ErrorContains(t, err, "does not fit a decimal128")
	_, err = m.Encode(allKinds{})
	assert.ErrorContains(t, err, "want a *allKinds")
	_, err = m.Encode((*allKinds)(nil))
	assert.ErrorContains(t, err, "nil *allKinds")
	assert.Error(t, m.Decode(nil, allKinds{}))
}

func TestCompositeKeyCodec(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regLine{}))
	m := mustMeta(t, r, regLine{})
	v := &regLine{Order: 7, Line: 2, SKU: "x"}
	raw, err := m.Encode(v)
	require.NoError(t, err)
	assert.Equal(t, `{"_id": {"order": {"$numberLong":"7"},"ln": {"$numberInt":"2"}},"sku": "x"}`, bson.Raw(raw).String())
	var got regLine
	require.NoError(t, m.Decode(raw, &got))
	assert.Equal(t, int64(7), got.Order)
	assert.Equal(t, int32(2), got.Line)
	pk, set := m.PKValue(&got)
	assert.True(t, set)
	assert.Equal(t, bson.D{{Key: "order", Value: int64(7)}, {Key: "ln", Value: int32(2)}}, pk)
	_, set = m.PKValue(&regLine{})
	assert.False(t, set)
	_, set = m.PKValue(&regLine{Line: 1})
	assert.True(t, set, "any member set")

	err = m.Decode(extJSON(t, `{"_id": {"order": 1, "ln": 1, "extra": 1}}`), &got)
	assert.ErrorContains(t, err, `unexpected key "extra"`)
	err = m.Decode(extJSON(t, `{"_id": 5}`), &got)
	assert.ErrorContains(t, err, "does not fit a composite primary key")

	require.NoError(t, m.SetPK(&got, bson.D{{Key: "order", Value: 9}, {Key: "ln", Value: 3}}))
	assert.Equal(t, int64(9), got.Order)
	assert.Equal(t, int32(3), got.Line)
	require.NoError(t, m.SetPK(&got, bson.M{"order": int64(4)}))
	assert.Equal(t, int64(4), got.Order)
	assert.Equal(t, int32(0), got.Line, "members missing from the value are reset")
	assert.Error(t, m.SetPK(&got, "nope"))

	upd, err := m.EncodeFields(&got, []string{"order", "sku", "pk"})
	require.NoError(t, err)
	require.Len(t, upd, 3)
	assert.Equal(t, "_id.order", upd[0].Key)
	assert.Equal(t, "sku", upd[1].Key)
	assert.Equal(t, "_id", upd[2].Key)
}

func TestPKValueAndSetPK(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regAuthor{}, regCode{}, regCounter{}, uuidModel{}))
	a := mustMeta(t, r, regAuthor{})
	v := &regAuthor{}
	_, set := a.PKValue(v)
	assert.False(t, set)
	id := bson.NewObjectID()
	require.NoError(t, a.SetPK(v, id))
	got, set := a.PKValue(v)
	assert.True(t, set)
	assert.Equal(t, id, got)
	assert.ErrorContains(t, a.SetPK(v, "abc"), "cannot use abc as the primary key")

	c := mustMeta(t, r, regCode{})
	cv := &regCode{}
	require.NoError(t, c.SetPK(cv, "EUR"))
	got, _ = c.PKValue(cv)
	assert.Equal(t, "EUR", got)

	n := mustMeta(t, r, regCounter{})
	nv := &regCounter{}
	require.NoError(t, n.SetPK(nv, 42))
	assert.Equal(t, int64(42), nv.Seq)
	require.NoError(t, n.SetPK(nv, int32(43)))
	assert.Equal(t, int64(43), nv.Seq)
	got, _ = n.PKValue(nv)
	assert.Equal(t, int64(43), got)

	u := mustMeta(t, r, uuidModel{})
	uv := &uuidModel{}
	require.NoError(t, u.SetPK(uv, kUUID{1}))
	assert.Equal(t, kUUID{1}, uv.Key)
	require.NoError(t, u.SetPK(uv, bson.Binary{Subtype: 4, Data: make([]byte, 16)}))
	assert.Equal(t, kUUID{}, uv.Key)
	got, _ = u.PKValue(&uuidModel{Key: kUUID{2}})
	assert.Equal(t, bson.Binary{Subtype: 4, Data: []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, got)
	assert.Error(t, u.SetPK(uv, bson.Binary{Subtype: 0, Data: []byte{1}}))
}

type uuidModel struct {
	Base
	Key  kUUID `modjo:"primary_key"`
	Name string
}

func TestEncodeFieldsAndUpdate(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	v := &allKinds{S: "x", I32: 5, JAny: nil, J: fields.JSON{Null: true}}
	d, err := m.EncodeFields(v, []string{"s", "i32", "j_any", "j", "pk"})
	require.NoError(t, err)
	require.Len(t, d, 5)
	assert.Equal(t, bson.RawValue{Type: bson.TypeString, Value: []byte{2, 0, 0, 0, 'x', 0}}.String(), d[0].Value.(bson.RawValue).String())
	assert.Equal(t, int32(5), d[1].Value.(bson.RawValue).Int32())
	assert.Equal(t, Unset, d[2].Value)
	assert.Equal(t, bson.TypeNull, d[3].Value.(bson.RawValue).Type)
	assert.Equal(t, "_id", d[4].Key)
	_, err = bson.Marshal(bson.D{{Key: "$set", Value: bson.D{d[2]}}})
	assert.ErrorContains(t, err, "model.Unset cannot be stored", "a misplaced Unset fails loudly")

	upd, err := m.EncodeUpdate(v, []string{"s", "j_any"})
	require.NoError(t, err)
	require.Len(t, upd, 2)
	assert.Equal(t, "$set", upd[0].Key)
	assert.Equal(t, "$unset", upd[1].Key)
	assert.Equal(t, bson.D{{Key: "j_any", Value: ""}}, upd[1].Value)
	_, err = bson.Marshal(upd)
	assert.NoError(t, err)

	_, err = m.EncodeFields(v, []string{"nope"})
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "nope", fe.Name)
	_, err = m.EncodeFields(&allKinds{Times: []time.Time{time.Date(400_000_000, 1, 1, 0, 0, 0, 0, time.UTC)}}, []string{"times"})
	assert.ErrorContains(t, err, "times.0")
}

func TestFieldGetSet(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regAuthor{}))
	m := mustMeta(t, r, regAuthor{})
	v := &regAuthor{Name: "Ann"}
	name, _ := m.Field("name")
	got, err := name.Get(v)
	require.NoError(t, err)
	assert.Equal(t, "Ann", got)
	require.NoError(t, name.Set(v, "Bob"))
	assert.Equal(t, "Bob", v.Name)
	created, _ := m.Field("created")
	now := time.Now()
	require.NoError(t, created.Set(v, now))
	assert.Equal(t, now, v.Created)
	assert.Error(t, name.Set(v, 5), "no int to string conversion")
	assert.Error(t, name.Set(v, nil))
	assert.Error(t, name.Set(regAuthor{}, "x"))
	_, err = m.PK.Get(v)
	assert.NoError(t, err)
	assert.Equal(t, "regAuthor.name", name.String())
}

// FuzzDecode feeds arbitrary bytes to Decode: it must never panic, and a document it
// accepts must encode again.
func FuzzDecode(f *testing.F) {
	m := kindsMeta(f)
	good, _ := m.Encode(fullKinds())
	f.Add([]byte(good))
	zero, _ := m.Encode(&allKinds{})
	f.Add([]byte(zero))
	f.Add([]byte{5, 0, 0, 0, 0})
	for _, s := range []string{`{"pay": {"_label": "kCard", "number": "1"}}`, `{"j_any": {"a": [1, {"b": null}]}}`, `{"tree": {"children": [{"name": "x"}]}}`, `{"_id": "x", "legacy": 1}`} {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &raw); err == nil {
			f.Add([]byte(raw))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v allKinds
		if err := m.Decode(data, &v); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError: %v", err, err)
			}
			return
		}
		if _, err := m.Encode(&v); err != nil && !strings.Contains(err.Error(), "decimal128") {
			t.Fatalf("decoded document does not encode: %v", err)
		}
	})
}

func TestLongArrays(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	v := &allKinds{}
	for i := 0; i < 123; i++ {
		v.Ints = append(v.Ints, int64(i))
		v.Addrs = append(v.Addrs, kAddr{City: string(rune('a' + i%26))})
	}
	got, raw := roundTrip(t, m, v)
	assert.Equal(t, v.Ints, got.Ints)
	assert.Equal(t, v.Addrs, got.Addrs)
	elems, err := bson.Raw(bson.Raw(raw).Lookup("ints").Value).Elements()
	require.NoError(t, err)
	for i, e := range elems {
		assert.Equal(t, strconv.Itoa(i), e.Key(), "array keys are the decimal indexes")
	}
	var back struct {
		Ints []int64 `bson:"ints"`
	}
	require.NoError(t, bson.Unmarshal(raw, &back))
	assert.Equal(t, v.Ints, back.Ints)
}
